"""What git says of a source directory: its revision and the time of its last commit (``None``
outside a checkout, or without git)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def git_revision(directory: Path) -> tuple[str, bool] | None:
    """``(HEAD's commit, whether the tree has uncommitted changes)`` of a git checkout: a
    changed file, a staged one, or an untracked file that is not ignored (it may end up in
    the wheel)."""
    head = _git(directory, "rev-parse", "HEAD")
    if head is None:
        return None
    status = _git(directory, "status", "--porcelain", "--untracked-files=normal")
    return head, bool(status)


def last_commit_time(directory: Path) -> int | None:
    """The time of the last commit of the checkout holding ``directory`` (seconds since 1970)."""
    text = _git(directory, "log", "-1", "--format=%ct")
    return int(text) if text and text.isdigit() else None


def _git(directory: Path, *args: str) -> str | None:
    if not _in_checkout(directory):
        return None  # no git process for a tree outside any checkout
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(
            [git, "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _in_checkout(directory: Path) -> bool:
    """Whether ``directory`` or a parent holds ``.git`` (a directory, or a worktree's file)."""
    current = directory.absolute()
    for candidate in (current, *current.parents):
        if (candidate / ".git").exists():
            return True
    return False
