"""Start-up and a warm cached build, two installs of hwb side by side: is a change slower?

Usage::

    python bench/startup_vs.py BEFORE/bin/hwb AFTER/bin/hwb [--runs 21]

Each install is an ``hwb`` executable in an environment of its own (for example the previous
main checked out with ``git worktree`` and installed there). Three commands are timed, the two
installs alternating run by run after one warm-up each: ``hwb --version``, ``hwb plugins``, and a
warm ``hwb build --isolation venv --cache-envs`` of a 20-module hatchling project (each install
with a cache directory of its own, filled by the warm-up). Printed: the median wall time of each
side and the median of the per-pair ratios after / before, the figure to quote. Whether the
modules' bytecode is written or compiled again each run follows the environment
(``PYTHONDONTWRITEBYTECODE``): say which in what you report.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import make_project  # the hatchling project of the single-build table


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hwb-startup-vs-"))
    try:
        sides = {"before": args.before, "after": args.after}
        commands: dict[str, dict[str, tuple[list[str], dict[str, str]]]] = {}
        for name, hwb in sides.items():
            project = make_project("hatchling", work / name)
            env = {**os.environ, "HWB_CACHE_DIR": str(work / f"cache-{name}")}
            build = [hwb, "build", str(project), "--isolation", "venv", "--cache-envs", "-q"]
            build += ["-o", str(work / f"out-{name}")]
            commands[name] = {
                "hwb --version": ([hwb, "--version"], env),
                "hwb plugins": ([hwb, "plugins"], env),
                "warm cached venv build": (build, env),
            }
        print(f"{'command':<24} {'before s':>9} {'after s':>9} {'after/before':>13}")
        for label in commands["before"]:
            times: dict[str, list[float]] = {"before": [], "after": []}
            for name in sides:
                timed(*commands[name][label])  # warm-up (fills the build's cache)
            for _ in range(args.runs):
                for name in sides:
                    times[name].append(timed(*commands[name][label]))
            ratio = statistics.median(
                a / b for a, b in zip(times["after"], times["before"], strict=True)
            )
            before, after = (statistics.median(times[n]) for n in sides)
            print(f"{label:<24} {before:>9.3f} {after:>9.3f} {ratio:>12.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
