"""Helpers shared by finder plugins: pick an executable in an installation directory, and match a
spec against what a finder lists."""

from __future__ import annotations

import os
import re
from pathlib import Path

from hwb_core.interfaces import PythonInfo, PythonSpec
from hwb_core.pythons import best_match

__all__ = ["PythonInfo", "PythonSpec", "best_match", "executable_in"]


def executable_in(prefix: Path, version_hint: str = "") -> Path | None:
    """The interpreter of an installation ``prefix`` (``prefix/bin/python3.12``), or ``None``.
    A hint naming a free-threaded build (``3.13.5t``, uv's ``cpython-3.13.5+freethreaded-...``)
    looks for ``python3.13t`` first, one naming PyPy (``pypy3.9-7.3.11``) for ``pypy3.9``."""
    bindir = prefix / ("Scripts" if os.name == "nt" else "bin")
    if os.name == "nt":
        exe = prefix / "python.exe"
        return exe if exe.is_file() else None
    names = []
    match = re.search(r"(\d+)\.(\d+)(?:\.\d+)?(?:[abrc]+\d+)?(t?)", version_hint)
    if match:
        short = f"{match.group(1)}.{match.group(2)}"
        if "pypy" in version_hint.lower():
            names.append(f"pypy{short}")
        elif match.group(3) or "freethreaded" in version_hint:
            names.append(f"python{short}t")
        names.append(f"python{short}")
    names += ["python3", "python", "pypy3"]
    for name in names:
        candidate = bindir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None
