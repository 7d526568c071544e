"""Where a build's ``SOURCE_DATE_EPOCH`` comes from, in this order: the newest member time of
the sdist being built; the time of the last commit of a source directory that is a git
checkout; the setting ``reproducible.source-date-epoch``; ``SOURCE_DATE_EPOCH`` in hwb's own
environment. And the compiler flags that keep the build's temporary directories out of what
C and C++ compilers write."""

from __future__ import annotations

import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from hwb.git import last_commit_time
from hwb_plugins.reproducible import ENABLED, EPOCH

if TYPE_CHECKING:
    from hwb import Config


def source_date_epoch(
    source: Path, config: Config, environ: Mapping[str, str]
) -> tuple[int | None, str]:
    """``(SOURCE_DATE_EPOCH, where it came from)`` for a build of ``source`` (an sdist or a
    directory as given); ``(None, why not)`` when there is none or it is switched off."""
    if not config.get(ENABLED):
        return None, f"{ENABLED} is false"
    if source.is_file():
        newest = _newest_member(source)
        if newest is not None:
            return newest, f"the newest member of {source.name}"
    elif source.is_dir():
        committed = last_commit_time(source)
        if committed is not None:
            return committed, "the last commit"
    value = config.get(EPOCH)
    if value is not None:
        return int(value), f"{EPOCH} ({config.source(EPOCH)})"
    text = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if text.isdigit():
        return int(text), "SOURCE_DATE_EPOCH in hwb's environment"
    return None, "the source is neither an sdist nor a git checkout, and no setting gives one"


def compiler_flags(
    paths: Mapping[str, str], environ: Mapping[str, str], own: Mapping[str, str]
) -> dict[str, str]:
    """``CFLAGS`` and ``CXXFLAGS`` that map the build's temporary directories (``paths``: a
    host directory to the name it gets) to fixed names in what C and C++ compilers write
    (debugging information, ``__FILE__``), after those of ``environ``; none where the build's
    own ``env.set`` (``own``) gives the variable."""
    maps = " ".join(f"-ffile-prefix-map={path}={name}" for path, name in paths.items())
    flags: dict[str, str] = {}
    for name in ("CFLAGS", "CXXFLAGS"):
        if name not in own:
            flags[name] = " ".join(filter(None, [environ.get(name, ""), maps]))
    return flags


def _newest_member(sdist: Path) -> int | None:
    try:
        with tarfile.open(sdist) as archive:
            times = [int(member.mtime) for member in archive.getmembers()]
    except (OSError, tarfile.TarError):
        return None
    return max(times) if times else None
