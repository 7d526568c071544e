"""Finder ``system``: ``python3.X``, ``python3.Xt`` (free-threaded), ``python3``, ``python``
and PyPy's ``pypy3.X``, ``pypy3`` on ``PATH``, shims skipped."""

from __future__ import annotations

import os
import re
from pathlib import Path

from hwb import PythonInfo, PythonSpec, hookimpl
from hwb.pythons import best_match, interrogate_many

NAME = "system"
_VERSIONED = re.compile(r"(python3\.\d+t?|pypy3\.\d+)$")


def _is_shim_dir(directory: str) -> bool:
    parts = Path(directory).parts
    return "shims" in parts


def candidates(path: str | None = None) -> list[str]:
    found: list[str] = []
    for directory in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep):
        if not directory or _is_shim_dir(directory):
            continue
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        versioned = sorted((n for n in names if _VERSIONED.match(n)), reverse=True)
        for name in [*versioned, "python3", "python", "pypy3"]:
            if name in names:
                exe = os.path.join(directory, name)
                if os.access(exe, os.X_OK) and not os.path.isdir(exe):
                    found.append(exe)
    return found


@hookimpl(trylast=True)
def list_pythons() -> list[PythonInfo]:
    return interrogate_many(candidates(), NAME)


@hookimpl(trylast=True)
def find_python(spec: PythonSpec) -> PythonInfo | None:
    if spec.path is not None:  # a file: the path finder's
        return None
    return best_match(spec, list_pythons())
