"""The processes that jobs running side by side started (to stop them all)."""

from __future__ import annotations

import os


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
