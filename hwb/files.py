"""Files only their owner may read: build logs hold what a build printed, its environment's
secrets perhaps."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO


def private_dir(directory: Path) -> None:
    """Make ``directory`` (and its parents), readable by its owner alone: logs hold what a
    build printed, its environment's secrets perhaps."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(directory, 0o700)  # made by an earlier hwb, with the umask's mode


def open_private(path: Path) -> IO[str]:
    """``path`` opened for writing text, afresh, readable by its owner alone (0600)."""

    def opener(name: str, flags: int) -> int:
        fd = os.open(name, flags, 0o600)
        if os.name == "posix":
            os.fchmod(fd, 0o600)  # a file there already kept its mode
        return fd

    return open(path, "w", encoding="utf-8", errors="replace", opener=opener)
