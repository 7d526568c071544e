"""The cached build environments as an area of ``hwb cache`` (the ``cache_areas`` hook)."""

from __future__ import annotations

from hwb.cache import CacheArea, CacheEntry, CacheRemoval
from hwb_plugins.venv import cache as envcache


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _entry(found: envcache.Entry, now: float) -> CacheEntry:
    age = None if found.created is None else now - found.created
    used = None if found.last_used is None else now - found.last_used
    state = "" if found.state == "ok" else f"  [{found.state}]"
    line = f"age {_age(age):>7}  used {_age(used):>7} ago  {found.python}{state}"
    if found.requirements:
        line += "\n    " + ", ".join(found.requirements)
    return CacheEntry(found.key, found.size, line, found.to_json(now))


def _entries(now: float) -> list[CacheEntry]:
    return [_entry(found, now) for found in envcache.entries()]


def _clear(older_than_days: float | None, now: float) -> list[CacheRemoval]:
    return [
        CacheRemoval(_entry(r.entry, now), r.removed, r.note)
        for r in envcache.clear(older_than_days, now=now)
    ]


def area() -> CacheArea:
    return CacheArea("envs", envcache.envs_dir(), "cached build environments", _entries, _clear)
