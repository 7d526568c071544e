"""The backend process started ahead (:mod:`hwb_plugins.prestart`), before it knows its request:

    python waiter.py --wait PLAN_JSON DRIVER

imports the plan's modules while hwb is still starting, then reads ``{"argv": [REQUEST_JSON,
RESULT_JSON], "cwd": DIR}`` from stdin, or exits quietly when stdin closes first. It then runs the
core's driver (DRIVER, ``hwb_core/_driver/hook_driver.py``) in this process, as
``python DRIVER REQUEST_JSON RESULT_JSON`` would, telling it which modules were loaded before
the plan's (``STARTED_BEFORE``: those imported since are the hooks' imports, listed for the next
plan). When it could behave otherwise than a process started now, it becomes one (``exec`` of
the driver), and RESULT_JSON then holds ``"restarted"``: why.

Like the driver, it imports nothing from hwb (it runs under the build's interpreter, 3.8 and
newer)."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil  # noqa: F401  (runpy.run_path's, and the driver's own, loaded before the plan's
import runpy
import sys
import time
import traceback  # noqa: F401  modules: not taken for the hooks' imports)
import warnings

#: The variables the process started ahead was given (:func:`restart` passes them on).
_inherited: dict[str, str] = {}
#: The core's driver, run once the request is known.
_driver: list[str] = []


def preload(plan_json: str) -> list[str] | None:
    """Import what the same build imported last time,
    then wait for the real arguments on stdin (one JSON line: ``argv`` and ``cwd``). The plan
    holds ``backend`` and ``modules``; an import that fails is left for the hooks to meet.
    ``None`` when stdin closes first: hwb did not need this process.

    The process then runs the hooks only if nothing tells it from a process started now
    (:func:`restart` otherwise): no warning and no change to the warning filters while
    importing, no module imported whose name is also in the project or a ``backend-path``
    directory (which comes first there), no file of an imported module changed since."""
    began = time.time_ns() - 5 * 10**7  # the clock of file times may lag a little
    try:
        with open(plan_json, encoding="utf-8") as stream:
            plan = json.load(stream)
        _inherited.update(os.environ)
        modules = list(plan["modules"])
    except (OSError, ValueError, KeyError, TypeError):
        modules = []
    before, filters = set(sys.modules), list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shown = warnings.showwarning
        for name in modules:
            try:
                importlib.import_module(name)
            except (Exception, SystemExit):  # the hooks will meet it again, and report it
                pass
        quiet = not caught and warnings.filters[1:] == filters and warnings.showwarning is shown
    imported = set(sys.modules) - before
    files = {
        f: _stat(f) for f in (getattr(sys.modules[n], "__file__", None) for n in imported) if f
    }
    line = sys.stdin.readline()
    if not line:
        return None
    order = json.loads(line)
    os.chdir(order["cwd"])
    argv = list(order["argv"])
    with open(argv[0], encoding="utf-8") as stream:
        backend_path = json.load(stream)["backend_path"] or []
    in_tree: set[str] = set()
    for where in [".", *backend_path]:
        try:
            in_tree.update(entry.partition(".")[0] for entry in os.listdir(where))
        except OSError:
            pass
    if not quiet:
        restart(argv, "its imports issued warnings or changed the warning filters")
    if in_tree.intersection(name.partition(".")[0] for name in imported):
        restart(argv, "a module it imported has a namesake in the project or backend-path")
    for path, stat in files.items():
        coarse = 2 * 10**9 if stat and not stat[2] % 10**9 else 0  # whole seconds: ext3, FAT
        if stat is None or stat[2] >= began - coarse or _stat(path) != stat:
            restart(argv, f"{path} changed while it imported")
    return argv


def _stat(path: str) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def restart(argv: list[str], why: str) -> None:
    """Become the process hwb would have started (``python DRIVER REQUEST RESULT``), noting
    ``why`` in the result for hwb to report."""
    os.environ.clear()  # as hwb gave it, whatever the imports did to it
    os.environ.update(_inherited)
    with open(argv[1], "w", encoding="utf-8") as stream:
        json.dump({"restarted": why}, stream)
    cmd = [sys.executable, _driver[0], *argv]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execv(cmd[0], cmd)
    import subprocess

    sys.exit(subprocess.call(cmd))


def main() -> int:
    here = os.path.normcase(os.path.realpath(os.path.dirname(os.path.abspath(__file__))))
    sys.path[:] = [p for p in sys.path if os.path.normcase(os.path.realpath(p or ".")) != here]
    _driver[:] = [os.path.abspath(sys.argv[3])]
    before = set(sys.modules)
    argv = preload(sys.argv[2])
    if argv is None:
        return 0
    sys.argv = [_driver[0], *argv]
    runpy.run_path(_driver[0], init_globals={"STARTED_BEFORE": before}, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
