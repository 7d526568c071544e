"""The container isolations' areas of ``hwb cache`` (the ``cache_areas`` hook): the host's
wheelhouse, one entry per container target (``cp312-3.12.1-manylinux_2_36_x86_64``) with the
requirement sets it holds, and the prepared environments (``layers``), one per image,
interpreter and requirement set.

Clearing an entry takes its lock, so a download in progress is never cut short; a target whose
lock is held is kept. A build already using an entry that is removed fails (its installer or
its backend names the missing file): clear between builds, or with ``--older-than``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from hwb.cache import CacheArea, CacheEntry, CacheRemoval
from hwb_plugins.container.wheelhouse import wheelhouse_root

DAY = 86400.0


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _records(target: Path) -> list[dict[str, Any]]:
    found = []
    for record in sorted((target / "sets").glob("*.json")):
        try:
            found.append(json.loads(record.read_text()))
        except (OSError, ValueError):
            continue
    return found


def _newest(records: list[dict[str, Any]]) -> float | None:
    times = [float(str(r.get("created", 0))) for r in records]
    return max(times) if times else None


def _entry(target: Path, now: float) -> CacheEntry:
    records = _records(target)
    newest = _newest(records)
    size = _size(target)
    wheels = sorted({p.name for p in target.glob("sets/*/*.whl")})
    sets = [[str(text) for text in r.get("requirements") or []] for r in records]
    age = "-" if newest is None else f"{(now - newest) / DAY:.1f} d"
    line = f"{len(wheels)} wheels, {len(sets)} requirement sets, newest download {age} ago"
    return CacheEntry(
        target.name,
        size,
        line,
        {
            "key": target.name,
            "path": str(target),
            "size": size,
            "wheels": wheels,
            "requirement_sets": sets,
            "newest_download": newest,
            "age_days": None if newest is None else round((now - newest) / DAY, 3),
        },
    )


def _targets() -> list[Path]:
    root = wheelhouse_root()
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def _entries(now: float) -> list[CacheEntry]:
    return [_entry(target, now) for target in _targets()]


def _clear(older_than_days: float | None, now: float | None = None) -> list[CacheRemoval]:
    from filelock import FileLock, Timeout

    now = time.time() if now is None else now
    results = []
    for target in _targets():
        entry = _entry(target, now)
        newest = _newest(_records(target))
        if older_than_days is not None and newest is not None:
            if now - newest < older_than_days * DAY:
                continue
        lock = FileLock(str(target / ".lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            results.append(CacheRemoval(entry, False, "a build is downloading into it; kept"))
            continue
        try:
            shutil.rmtree(target, ignore_errors=True)
        finally:
            lock.release()
        results.append(CacheRemoval(entry, not target.exists()))
    return results


def area() -> CacheArea:
    return CacheArea("wheelhouse", wheelhouse_root(), "wheelhouse targets", _entries, _clear)


def _layers() -> list[Path]:
    from hwb_plugins.container.layers import envs_root

    root = envs_root()
    return (
        sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if root.is_dir()
        else []
    )


def _layer_entry(layer: Path, now: float) -> CacheEntry:
    from hwb_plugins.container.layers import RECORD

    try:
        record: dict[str, Any] = json.loads((layer / RECORD).read_text())
    except (OSError, ValueError):
        record = {}
    created = record.get("created")
    size = _size(layer)
    age = "-" if created is None else f"{(now - float(created)) / DAY:.1f} d"
    line = (
        f"age {age:>7}  {record.get('image', '?')} {record.get('python', '?')}\n    "
        + ", ".join(record.get("requirements") or [])
    )
    return CacheEntry(
        layer.name,
        size,
        line,
        {
            "key": layer.name,
            "path": str(layer),
            "size": size,
            "image": record.get("image"),
            "python": record.get("python"),
            "requirements": record.get("requirements") or [],
            "created": created,
            "age_days": None if created is None else round((now - float(created)) / DAY, 3),
        },
    )


def _layer_entries(now: float) -> list[CacheEntry]:
    return [_layer_entry(layer, now) for layer in _layers()]


def _clear_layers(older_than_days: float | None, now: float | None = None) -> list[CacheRemoval]:
    from filelock import FileLock, Timeout

    now = time.time() if now is None else now
    results = []
    for layer in _layers():
        entry = _layer_entry(layer, now)
        created = entry.json.get("created")
        if older_than_days is not None and created is not None:
            if now - float(created) < older_than_days * DAY:
                continue
        lock = FileLock(str(layer.parent / f"{layer.name}.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            results.append(CacheRemoval(entry, False, "a build is preparing it; kept"))
            continue
        try:
            shutil.rmtree(layer, ignore_errors=True)
        finally:
            lock.release()
        results.append(CacheRemoval(entry, not layer.exists()))
    return results


def layers_area() -> CacheArea:
    from hwb_plugins.container.layers import envs_root

    return CacheArea(
        "container-envs",
        envs_root(),
        "prepared container environments",
        _layer_entries,
        _clear_layers,
    )
