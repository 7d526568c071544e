"""Where hwb keeps files between runs, and telling whether a kept directory changed."""

from __future__ import annotations

import os
from pathlib import Path

from hwb_core.paths import cache_dir as cache_dir

__all__ = ["cache_dir", "tree_fingerprint"]


def tree_fingerprint(root: Path, skip: tuple[str, ...] = ()) -> str:
    """A digest of everything under ``root`` as it is now (names, types, sizes, modes, inode
    numbers, and modification and change times), leaving out the entries of ``root`` itself
    whose names start with one of ``skip``. Kept with a cached directory when it is made and compared when it is used, it
    tells whether anything wrote into it meanwhile: a write, a rename or a ``chmod`` sets the
    change time, which no program can set back. A few milliseconds for a thousand files."""
    import hashlib

    digest = hashlib.sha256()
    pending = [str(root)]
    prefix = len(str(root))
    while pending:
        directory = pending.pop()
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        for entry in entries:
            if directory == str(root) and entry.name.startswith(skip):
                continue
            st = entry.stat(follow_symlinks=False)
            digest.update(
                f"{entry.path[prefix:]}\0{st.st_mode}\0{st.st_size}\0{st.st_ino}"
                f"\0{st.st_mtime_ns}\0{st.st_ctime_ns}\n".encode("utf-8", "surrogateescape")
            )
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
    return digest.hexdigest()
