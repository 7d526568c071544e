"""What jobs running side by side need from the system: private copies of the source tree,
and the processes they started (to stop them)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from hwb_plugins.matrix.jobs import LOG_DIR_NAME

_NEVER_COPIED = frozenset(
    {
        ".tox",
        ".nox",
        ".venv",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        LOG_DIR_NAME,
    }
)


def copy_source(root: Path, dest: Path, skip: Iterable[Path] = ()) -> Path:
    """Copy a project tree for one job, without virtual environments, caches and ``skip``
    (the output and log directories). Symbolic links are copied as links."""
    skipped = {os.path.realpath(p) for p in skip}

    def ignore(directory: str, names: list[str]) -> set[str]:
        out = set()
        for name in names:
            if name in _NEVER_COPIED:
                out.add(name)
                continue
            path = os.path.join(directory, name)
            if (
                os.path.isdir(path)
                and not os.path.islink(path)
                and (
                    os.path.realpath(path) in skipped
                    or os.path.exists(os.path.join(path, "pyvenv.cfg"))
                )
            ):
                out.add(name)
        return out

    shutil.copytree(root, dest, symlinks=True, ignore=ignore)
    return dest


def descendants(root: int | None = None) -> list[int]:
    """Process ids of every descendant of ``root`` (this process), from ``/proc``; empty where
    there is no ``/proc``."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2 :].split()  # the name may hold spaces and parentheses
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def signal_descendants(signum: int) -> None:
    """Send ``signum`` to every process this one started, directly or not. Children share
    hwb's process group when run from a terminal, and get Ctrl-C anyway; this reaches them
    when they do not (hwb under a supervisor, SIGTERM, ``--fail-fast``)."""
    for pid in descendants():
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass
