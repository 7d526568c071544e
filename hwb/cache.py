"""What a plugin keeps in hwb's cache directory, for ``hwb cache list`` and ``hwb cache clear``.

A plugin that keeps something there (a cached environment, a wheelhouse) answers the
``cache_areas`` hook of the ``cache-command`` plugin with :class:`CacheArea` objects
(docs/writing-plugins.md, "Cache areas").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True)
class CacheEntry:
    """One thing a plugin keeps in hwb's cache directory (a build environment, one target's
    wheels)."""

    key: str
    size: int
    """Bytes on disk."""
    line: str
    """What ``hwb cache list`` prints for it (after the key and size)."""
    json: Mapping[str, Any]
    """What ``hwb cache list --json`` gives for it (``key`` and ``size`` included)."""


@dataclasses.dataclass(frozen=True)
class CacheRemoval:
    entry: CacheEntry
    removed: bool
    note: str = ""
    """Why it was kept (``"a build is using it; kept"``)."""


@dataclasses.dataclass(frozen=True)
class CacheArea:
    """What a plugin keeps in hwb's cache directory, from the ``cache_areas`` hook: ``hwb cache
    list`` and ``hwb cache clear`` go through every area."""

    name: str
    """The area's key in ``--json`` (``"envs"``, ``"wheelhouse"``): one area per name."""
    path: Path
    what: str
    """What its entries are, plural (``"build environments"``)."""
    entries: Callable[[float], Sequence[CacheEntry]]
    """``entries(now)``: what is there."""
    clear: Callable[[float | None, float], Sequence[CacheRemoval]]
    """``clear(older_than_days, now)``: remove all (or those older than that) that no running
    build uses, saying what was kept and why."""
