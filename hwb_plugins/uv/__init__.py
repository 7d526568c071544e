"""Finder ``uv``: interpreters installed by ``uv python install`` (managed installs only).

They are read from uv's install directory (``UV_PYTHON_INSTALL_DIR``, else
``$XDG_DATA_HOME/uv/python``); uv itself is not run, so this finder costs a directory listing.
"""

from __future__ import annotations

import os
from pathlib import Path

from hwb import PythonInfo, PythonSpec, hookimpl
from hwb.pythons import best_match, executable_in, interrogate_many

NAME = "uv"


def install_dir() -> Path:
    override = os.environ.get("UV_PYTHON_INSTALL_DIR")
    if override:
        return Path(override).expanduser()
    if os.name == "nt":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
        return base / "uv" / "python"
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "uv" / "python"


def candidates() -> list[str]:
    root = install_dir()
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        exe = executable_in(entry, entry.name)
        if exe is not None:
            found.append(str(exe))
    return found


@hookimpl(tryfirst=True)
def list_pythons() -> list[PythonInfo]:
    return interrogate_many(candidates(), NAME)


@hookimpl(tryfirst=True)
def find_python(spec: PythonSpec) -> PythonInfo | None:
    if spec.path is not None:  # a file: the path finder's
        return None
    return best_match(spec, list_pythons())
