"""Finder ``pyenv``: every version under ``$PYENV_ROOT/versions`` (default ``~/.pyenv``).

The versions directory is read directly; pyenv's shims are never used, since they answer only
for the globally selected version.
"""

from __future__ import annotations

import os
from pathlib import Path

from hwb import PythonInfo, PythonSpec, hookimpl
from hwb.pythons import best_match, executable_in, interrogate_many

NAME = "pyenv"


def versions_dir() -> Path:
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    return Path(root).expanduser() / "versions"


def candidates() -> list[str]:
    try:
        entries = sorted(versions_dir().iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        # Skip pyenv-virtualenv environments: a build needs a base interpreter.
        if entry.name == "envs" or entry.is_symlink() or (entry / "pyvenv.cfg").exists():
            continue
        exe = executable_in(entry, entry.name)
        if exe is not None:
            found.append(str(exe))
    return found


@hookimpl
def list_pythons() -> list[PythonInfo]:
    return interrogate_many(candidates(), NAME)


@hookimpl
def find_python(spec: PythonSpec) -> PythonInfo | None:
    if spec.path is not None:  # a file: the path finder's
        return None
    return best_match(spec, list_pythons())
