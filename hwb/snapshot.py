"""The private copy of a source tree that a build works in, so that it never writes into the
project (and two builds of one checkout never share ``build/``).

What is left out: the top-level ``build/`` (a stale one must never reach a wheel), every
``*.egg-info``, virtual environments (a directory holding ``pyvenv.cfg``), tool caches
(``__pycache__``, ``.tox``, ``.nox``, ``.mypy_cache``, ``.pytest_cache``, ``.ruff_cache``),
``.hwb-logs`` and the output directory. ``.git`` is kept, so that versions derived from VCS
metadata (setuptools-scm, hatch-vcs) come out as in the tree: its object files, which git never
changes once written, are hard-linked where the file system allows; every other file is copied
(a backend may rewrite a file in place, which through a hard link would change the project).
``--in-place`` builds in the tree itself instead, one build at a time (:func:`tree_lock`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hwb_core.interfaces import Reporter

#: Directory names never copied, wherever they are.
NEVER = frozenset(
    {"__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hwb-logs"}
)
#: Directory names not copied at the top of the tree (backends' output).
NOT_AT_TOP = frozenset({"build"})


def copy_tree(root: Path, dest: Path, skip: Iterable[Path] = ()) -> tuple[Path, int]:
    """Copy ``root`` to ``dest`` as described above; returns ``dest`` and the number of files."""
    skipped = {os.path.realpath(p) for p in skip}
    objects = os.path.join(os.path.realpath(root), ".git", "objects")
    count = 0

    def ignore(directory: str, names: list[str]) -> set[str]:
        out = set()
        top = os.path.realpath(directory) == os.path.realpath(root)
        for name in names:
            path = os.path.join(directory, name)
            if name in NEVER or (top and name in NOT_AT_TOP) or name.endswith(".egg-info"):
                out.add(name)
            elif os.path.isdir(path) and not os.path.islink(path):
                if os.path.realpath(path) in skipped or os.path.isfile(
                    os.path.join(path, "pyvenv.cfg")
                ):
                    out.add(name)
        return out

    def copy(src: str, dst: str) -> str:
        nonlocal count
        count += 1
        if os.path.realpath(src).startswith(objects + os.sep):
            try:
                os.link(src, dst)
                return dst
            except OSError:
                pass  # another file system, or links not allowed: a copy then
        try:
            return str(shutil.copy2(src, dst))
        except OSError as exc:  # stop at the first: copytree would go on and list them all
            raise _Stopped(exc) from None

    try:
        shutil.copytree(root, dest, symlinks=True, ignore=ignore, copy_function=copy)
    except _Stopped as stopped:
        raise stopped.error from None
    return dest, count


class _Stopped(Exception):
    """A file that could not be copied (a full disk), past ``copytree``'s ``except OSError``."""

    def __init__(self, error: OSError) -> None:
        self.error = error


@contextlib.contextmanager
def tree_lock(root: Path, reporter: Reporter) -> Iterator[None]:
    """Hold the lock of an in-place build of ``root`` (in hwb's cache directory, not in the
    tree); a second ``--in-place`` build of the same tree waits for it, and says so."""
    from filelock import FileLock, Timeout

    from hwb_core.paths import cache_dir

    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    directory = cache_dir() / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(directory / f"tree-{key}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        reporter.step(f"waiting for another in-place build of {root} to finish")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
