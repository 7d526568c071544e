"""Run ``get_requires_for_build_wheel`` and then ``build_wheel`` in one interpreter.

    python hook_driver.py IN_PROCESS_SCRIPT REQUIRES_CONTROL_DIR BUILD_CONTROL_DIR BASE_JSON

Started by :mod:`hwb_core.backend` in the build environment instead of pyproject-hooks'
``_in_process.py get_requires_for_build_wheel``. It loads that very script as a module and calls
its ``main()`` twice: once for ``get_requires_for_build_wheel`` (control directory as
pyproject-hooks prepared it), then, when the backend asked for nothing beyond the requirements
in BASE_JSON (already installed), once for ``build_wheel`` with the control directory hwb
prepared, so that the backend is imported once and the interpreter starts once. Before
``build_wheel`` it writes ``started`` into that directory, so that a failure is blamed on the
right hook. It imports nothing from hwb (it runs under the build's interpreter).
"""

import json
import os
import sys


def main() -> None:
    here = os.path.normcase(os.path.realpath(os.path.dirname(os.path.abspath(__file__))))
    sys.path[:] = [p for p in sys.path if os.path.normcase(os.path.realpath(p or ".")) != here]
    script, requires_dir, build_dir, base_json = sys.argv[1:5]

    import importlib.util

    spec = importlib.util.spec_from_file_location("_hwb_pyproject_hooks_in_process", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run_hook = module.main

    sys.argv = [script, "get_requires_for_build_wheel", requires_dir]
    run_hook()
    with open(os.path.join(requires_dir, "output.json"), encoding="utf-8") as stream:
        result = json.load(stream)
    with open(base_json, encoding="utf-8") as stream:
        base = json.load(stream)
    requires = result.get("return_val")
    if not isinstance(requires, list) or any(r not in base for r in requires):
        return  # an error to report, or more to install first: build_wheel runs on its own
    if result.get("no_backend") or result.get("hook_missing") or result.get("unsupported"):
        return
    with open(os.path.join(build_dir, "started"), "w", encoding="utf-8") as stream:
        stream.write(str(os.getpid()))
    sys.argv = [script, "build_wheel", build_dir]
    run_hook()


if __name__ == "__main__":
    main()
