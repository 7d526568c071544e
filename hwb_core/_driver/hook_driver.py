"""Call a PEP 517 backend's ``get_requires_for_build_wheel`` and then ``build_wheel`` in one
interpreter, when the backend asks for nothing beyond what is installed.

    python hook_driver.py REQUEST_JSON RESULT_JSON

Started by :mod:`hwb_core.backend` in a build environment on the host, with the project root as
its working directory. It speaks PEP 517 itself (the interface is the specification's, not
pyproject-hooks' private files): REQUEST_JSON holds ``backend``, ``backend_path``,
``config_settings``, ``wheel_directory``, ``installed`` (the requirements already in the
environment) and, optionally, ``distributions``: where to write what the environment holds once
``build_wheel`` has run (``distributions.py``). RESULT_JSON receives ``{"requires": [...]}`` and, when ``build_wheel`` ran,
``"wheel"``: the file name it returned; ``"started"`` is written first, so that a failure is
blamed on the right hook, and ``"warnings"``: the messages of the ``UserWarning``s the hooks
issued (as pyproject-hooks reports them), ``"modules"``: what the hooks imported from outside
the project, and ``"paths"``: the interpreter's own ``sys.path``. A backend that cannot be
imported gives ``{"unavailable": TEXT}``; a hook that raises prints its traceback and exits 1.
It imports nothing from hwb (it runs under the build's interpreter, 3.8 and newer).

    python hook_driver.py --wait PLAN_JSON

is the same process started ahead of time (the plugin ``prestart``): it imports the plan's
modules while hwb is still starting, then reads ``{"argv": [REQUEST_JSON, RESULT_JSON],
"cwd": DIR}`` from stdin, or exits quietly when stdin closes first. When it could behave
otherwise than a process started now, it becomes one, and RESULT_JSON then holds
``"restarted"``: why."""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import warnings
from typing import Any

#: The variables the process started ahead was given (:func:`restart` passes them on).
_inherited: dict[str, str] = {}


def load_backend(spec: str, backend_path: list[str] | None) -> Any:
    """The backend object ``module:attr.attr`` names, imported as PEP 517 says: from
    ``backend-path`` (which must then hold it) before anything else."""
    root = os.getcwd()
    paths = [os.path.normpath(os.path.join(root, p)) for p in backend_path or []]
    sys.path[:0] = paths
    module_name, _, attrs = spec.partition(":")
    backend = importlib.import_module(module_name)
    if paths:
        where = os.path.normcase(os.path.realpath(getattr(backend, "__file__", "") or ""))
        if not any(where.startswith(os.path.normcase(os.path.realpath(p)) + os.sep) for p in paths):
            raise ImportError(
                f"build-backend {spec!r} was imported from {where}, not from backend-path "
                f"{backend_path}"
            )
    for attr in filter(None, attrs.split(".")):
        backend = getattr(backend, attr)
    return backend


def preload(plan_json: str) -> list[str] | None:
    """Started ahead (``--wait PLAN_JSON``): import what the same build imported last time,
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
        os.environ["_PYPROJECT_HOOKS_BUILD_BACKEND"] = plan["backend"]
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
    cmd = [sys.executable, os.path.abspath(__file__), *argv]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execv(cmd[0], cmd)
    import subprocess

    sys.exit(subprocess.call(cmd))


def imported_since(before: set[str], root: str) -> list[str]:
    """The modules imported since ``before`` that came from outside the project ``root``
    (what a process started ahead next time may import before it knows the request)."""
    root = os.path.normcase(os.path.realpath(root)) + os.sep
    names = []
    for name, module in list(sys.modules.items()):
        if name in before or name == "__main__":
            continue
        where = getattr(module, "__file__", None)
        if where and os.path.normcase(os.path.realpath(where)).startswith(root):
            continue
        names.append(name)
    return names


def list_distributions(out_json: str, paths: list[str]) -> None:
    """What the environment holds, once the wheel is built: ``distributions.py`` beside this
    file, in this process (it saves the build a process of its own)."""
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "_hwb_distributions", os.path.join(here, "distributions.py")
    )
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(out_json, paths)


def main() -> int:
    here = os.path.normcase(os.path.realpath(os.path.dirname(os.path.abspath(__file__))))
    sys.path[:] = [p for p in sys.path if os.path.normcase(os.path.realpath(p or ".")) != here]
    args = sys.argv[1:]
    before = set(sys.modules)
    if args[:1] == ["--wait"]:
        argv = preload(args[1])
        if argv is None:
            return 0
        args = argv
    request_json, result_json = args[:2]
    restarted = None
    if os.path.exists(result_json):  # a process started ahead that became this one
        with open(result_json, encoding="utf-8") as stream:
            restarted = json.load(stream).get("restarted")
    installed_paths = [p for p in sys.path if p]  # before a backend-path is added
    with open(request_json, encoding="utf-8") as stream:
        request = json.load(stream)

    def write(result: dict[str, Any]) -> None:
        if restarted:
            result["restarted"] = restarted
        with open(result_json, "w", encoding="utf-8") as stream:
            json.dump(result, stream)

    # What pyproject-hooks sets for the hooks it runs: a backend (or a setup.py) sees the same
    # whichever of the two processes runs it.
    os.environ["_PYPROJECT_HOOKS_BUILD_BACKEND"] = request["backend"]
    try:
        backend = load_backend(request["backend"], request["backend_path"])
    except Exception:
        write({"unavailable": traceback.format_exc()})
        return 0
    settings = request["config_settings"]
    with warnings.catch_warnings(record=True) as caught:

        def write_with_warnings(result: dict[str, Any]) -> None:
            result["warnings"] = [
                str(w.message)
                for w in caught
                if isinstance(w.category, type) and issubclass(w.category, UserWarning)
            ]
            write(result)

        hook = getattr(backend, "get_requires_for_build_wheel", None)
        requires = list(hook(settings)) if hook is not None else []
        if not all(isinstance(r, str) for r in requires):
            print(f"get_requires_for_build_wheel returned {requires!r}, not a list of strings")
            return 1
        if any(r not in request["installed"] for r in requires):
            write_with_warnings({"requires": requires})  # build_wheel runs on its own
            return 0
        write_with_warnings({"requires": requires, "started": True})
        name = backend.build_wheel(request["wheel_directory"], settings)
        modules = imported_since(before, os.getcwd())
        if request.get("distributions"):
            list_distributions(request["distributions"], installed_paths)
        result = {"requires": requires, "started": True, "wheel": name, "modules": modules}
        result["paths"] = installed_paths
        write_with_warnings(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
