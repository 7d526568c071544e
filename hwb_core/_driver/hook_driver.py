"""Call a PEP 517 backend's ``get_requires_for_build_wheel`` and then ``build_wheel`` in one
interpreter, when the backend asks for nothing beyond what is installed.

    python hook_driver.py REQUEST_JSON RESULT_JSON

Started by :mod:`hwb_core.backend` in the build environment (a copy of it, in a container),
with the project root as its working directory. It speaks PEP 517 itself (the interface is the
specification's, not pyproject-hooks' private files): REQUEST_JSON holds ``backend``,
``backend_path``, ``config_settings``, ``wheel_directory``, ``installed`` (the requirements
already in the environment), ``after_build``: ``[SCRIPT, ARGUMENT]`` pairs, Python files a plugin
gives (the ``after_build_scripts`` hook) whose ``after_build(ARGUMENT, PATHS)`` this process calls
once ``build_wheel`` has returned (``PATHS``: the interpreter's ``sys.path`` before any
``backend-path``; an exception there is ignored), and, optionally, ``requires``: what
``get_requires_for_build_wheel`` answered a first process, which asked for more than was
installed (this second one, started once hwb installed it, calls only ``build_wheel``).
RESULT_JSON receives ``{"requires": [...]}`` and, when ``build_wheel`` ran, ``"wheel"``: the
file name it returned; ``"started"`` is written first, so that a failure is blamed on the
right hook, and ``"warnings"``: the messages of the ``UserWarning``s the hooks
issued (as pyproject-hooks reports them), ``"modules"``: what the hooks imported from outside
the project, and ``"paths"``: the interpreter's own ``sys.path``. A backend that cannot be
imported gives ``{"unavailable": TEXT}``; a hook that raises prints its traceback and exits 1.
It imports nothing from hwb (it runs under the build's interpreter, 3.8 and newer).

A script that prepared this process (one started ahead of its request, which imports what the
last build imported) may run this one with ``runpy.run_path``, giving
``STARTED_BEFORE``: the modules loaded before it imported anything of the backend's (what was
imported since is listed as the hooks' imports). One that ran before this one and then replaced
itself with it (``exec``) may leave ``{"restarted": WHY}`` in RESULT_JSON, which is kept there."""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
import warnings
from typing import Any


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


def after_build(scripts: list[list[str]], paths: list[str]) -> None:
    """Run each script's ``after_build(argument, paths)``, in this process (it saves the build
    a process of its own); one that fails is passed over: what it was to find is not known."""
    import importlib.util

    for number, (script, argument) in enumerate(scripts):
        try:
            spec = importlib.util.spec_from_file_location(f"_hwb_after_build_{number}", script)
            if spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            module.after_build(argument, list(paths))
        except Exception:
            continue


def main() -> int:
    here = os.path.normcase(os.path.realpath(os.path.dirname(os.path.abspath(__file__))))
    sys.path[:] = [p for p in sys.path if os.path.normcase(os.path.realpath(p or ".")) != here]
    args = sys.argv[1:]
    before: set[str] = globals().get("STARTED_BEFORE") or set(sys.modules)
    request_json, result_json = args[:2]
    restarted = None
    if os.path.exists(result_json):  # a process that ran before this one and became it
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

        if "requires" in request:  # the answer of a process before this one
            requires = list(request["requires"])
        else:
            hook = getattr(backend, "get_requires_for_build_wheel", None)
            requires = list(hook(settings)) if hook is not None else []
            if not all(isinstance(r, str) for r in requires):
                print(f"get_requires_for_build_wheel returned {requires!r}, not a list of strings")
                return 1
            if any(r not in request["installed"] for r in requires):
                write_with_warnings({"requires": requires})  # build_wheel runs in a second one
                return 0
        write_with_warnings({"requires": requires, "started": True})
        name = backend.build_wheel(request["wheel_directory"], settings)
        modules = imported_since(before, os.getcwd())
        after_build(request.get("after_build") or [], installed_paths)
        result = {"requires": requires, "started": True, "wheel": name, "modules": modules}
        result["paths"] = installed_paths
        write_with_warnings(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
