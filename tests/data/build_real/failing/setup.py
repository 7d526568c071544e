raise RuntimeError("hwbt-failing: this build fails on purpose")
