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
    """The interpreter of an installation ``prefix`` (``prefix/bin/python3.12``), or ``None``."""
    bindir = prefix / ("Scripts" if os.name == "nt" else "bin")
    if os.name == "nt":
        exe = prefix / "python.exe"
        return exe if exe.is_file() else None
    names = []
    match = re.search(r"(\d+)\.(\d+)", version_hint)
    if match:
        names.append(f"python{match.group(1)}.{match.group(2)}")
    names += ["python3", "python"]
    for name in names:
        candidate = bindir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None
