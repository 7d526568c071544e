"""The ``hwb`` group's entry points, remembered between runs.

Listing entry points means importing ``importlib.metadata`` and reading what every installed
distribution declares: 0.03 to 0.04 s, a third of what a warm cached build spends outside its
backend. So the listing is kept in hwb's cache directory
(``plugins/<environment>.json``) with a fingerprint of what it was read from, and used while the
fingerprint still matches.

The fingerprint is what ``importlib.metadata`` looks at: for every ``sys.path`` entry (in order)
the names of its ``*.dist-info`` and ``*.egg-info`` directories, each with the modification time
(in nanoseconds), size and inode of its ``entry_points.txt``; a zip or egg file on ``sys.path``
by its own. Installing, upgrading, reinstalling or removing a distribution adds, removes or
replaces one of those, so the next run lists the entry points again (installers that link files
from their cache, as uv does, keep the cached file's time: the inode tells another build's file
apart). Computing it costs a directory listing per ``sys.path`` entry and a ``stat`` per
distribution, about a millisecond.

When another finder on ``sys.meta_path`` can provide distributions (something a fingerprint of
``sys.path`` cannot see), nothing is cached. The file is written atomically (a temporary file
renamed into place), so concurrent runs never read half of one; a cache directory that cannot be
written only means the listing is read each time. Within one process a group is listed once for
a given ``sys.path``, ``sys.meta_path`` and cache directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

FORMAT = 2
_DIST_SUFFIXES = (".dist-info", ".egg-info")
_SEEN: dict[tuple[object, ...], list[tuple[str, str, str, str]]] = {}
#: Callables run with the command line as hwb starts, before its plugins are loaded.
EARLY_GROUP = "hwb.early"


def start_early(args: Sequence[str], plugin_flags: Iterable[str] = ()) -> None:
    """Call every entry point of :data:`EARLY_GROUP` with the command line ``args``, first
    thing (before click, pluggy or any plugin is imported): the head start of a plugin whose
    work can begin before hwb knows what to do (the backend process started ahead). An entry
    point is named as its plugin in the ``hwb`` group: blocked with it (``-p no:NAME`` in
    ``plugin_flags``, ``HWB_DISABLE_PLUGINS``), it is not called. One that fails is ignored:
    a head start is never needed."""
    blocked = blocked_from_environment(os.environ)
    blocked.update(flag[3:] for flag in plugin_flags if flag.startswith("no:"))
    for name, value in listing(EARLY_GROUP):
        if name not in blocked:
            try:
                cast("Callable[[list[str]], object]", load_target(value))(list(args))
            except Exception:
                pass


def blocked_from_environment(environ: Mapping[str, str]) -> set[str]:
    raw = environ.get("HWB_DISABLE_PLUGINS", "")
    return {part.strip() for part in raw.split(",") if part.strip()}


def load_target(value: str) -> object:
    """The object an entry point's value names (``package.module`` or ``package.module:attr``,
    extras ignored), as ``importlib.metadata.EntryPoint.load`` finds it."""
    import importlib

    module_name, _, attrs = value.split("[")[0].partition(":")
    found: object = importlib.import_module(module_name.strip())
    for attr in attrs.strip().split("."):
        if attr:
            found = getattr(found, attr)
    return found


def listing(group: str) -> list[tuple[str, str]]:
    """``(name, value)`` of every entry point of ``group``, in ``importlib.metadata``'s order
    (``sys.path`` order); the same entry point of a distribution seen twice once."""
    return [(name, value) for name, value, _, _ in _entries(group)]


def owners(group: str) -> dict[str, tuple[str, str]]:
    """``{value: (distribution, version)}`` of ``group``'s entry points, from the same
    remembered listing (what ``hwb plugins`` and a provenance record name)."""
    found: dict[str, tuple[str, str]] = {}
    for _, value, dist, version in _entries(group):
        if dist and value not in found:
            found[value] = (dist, version)
    return found


def _entries(group: str) -> list[tuple[str, str, str, str]]:
    """The listing, read once per process for each group and what it depends on here."""
    env = [os.environ.get(name) for name in ("HWB_CACHE_DIR", "XDG_CACHE_HOME", "HOME")]
    key = (group, *sys.path, *map(id, sys.meta_path), *env)
    if key not in _SEEN:
        _SEEN[key] = _remembered(group)
    return _SEEN[key]


def _remembered(group: str) -> list[tuple[str, str, str, str]]:
    fingerprint = _fingerprint()
    path = _cache_file(group) if fingerprint is not None else None
    if fingerprint is None or path is None:
        return _list_installed(group)
    cached = _read(path, fingerprint)
    if cached is not None:
        return cached
    found = _list_installed(group)
    _write(path, fingerprint, found)
    return found


def _list_installed(group: str) -> list[tuple[str, str, str, str]]:
    """Read the entry points from the installed distributions, with ``importlib.metadata``:
    each with its distribution's name and version.

    Not with stevedore, which hwb used to list them with: importing it costs 0.03 s of every
    start, and its own listing between runs is keyed by modification times rounded to 32-bit
    floats (steps of two minutes at today's dates) and kept for the life of a process, so an
    ``entry_points.txt`` rewritten a minute after the last run was listed as it was before
    (``tests/test_startup.py``). Here, where a changed fingerprint asks for the truth, the
    distributions themselves are read.
    """
    from importlib.metadata import entry_points

    found: list[tuple[str, str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    by_dist: dict[int, tuple[str, str]] = {}  # entry points of one distribution share it
    for ep in entry_points(group=group):
        if (ep.name, ep.value) in seen:
            continue
        seen.add((ep.name, ep.value))
        dist = getattr(ep, "dist", None)
        if dist is not None and id(dist) not in by_dist:
            meta = dist.metadata  # parsed on every access: read it once
            by_dist[id(dist)] = (str(meta["Name"] or ""), str(meta["Version"] or ""))
        name, version = by_dist.get(id(dist), ("", "")) if dist is not None else ("", "")
        found.append((ep.name, ep.value, name, version))
    return found


def _fingerprint() -> list[Any] | None:
    """What the listing depends on (see the module's docstring), or ``None`` when another
    finder than the path finder provides distributions."""
    from importlib.machinery import PathFinder

    if any(f is not PathFinder and hasattr(f, "find_distributions") for f in sys.meta_path):
        return None
    parts: list[Any] = [FORMAT, sys.version]
    for entry in sys.path:
        root = os.path.abspath(entry or ".")
        try:
            with os.scandir(root) as children:
                names = sorted(c.name for c in children if c.name.lower().endswith(_DIST_SUFFIXES))
        except NotADirectoryError:  # a zip or an egg file, read inside: by its own stat
            parts.append([root, *_stat(root)])
            continue
        except OSError:  # missing or unreadable: nothing found there
            continue
        if root.lower().endswith(".egg"):
            names.append("EGG-INFO")  # an unpacked egg keeps its metadata there
        dists = [[name, *_stat(os.path.join(root, name, "entry_points.txt"))] for name in names]
        if dists:
            parts.append([root, dists])
    return parts


def _stat(path: str) -> list[int]:
    try:
        st = os.stat(path)
    except OSError:
        return []
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _cache_file(group: str) -> Path | None:
    """One file per interpreter, environment (``sys.prefix``) and group."""
    import zlib  # not hashlib, whose OpenSSL takes 4 ms to load

    from hwb_core.paths import cache_dir

    try:
        root = cache_dir()
    except Exception:  # no usable home directory: no cache
        return None
    raw = f"{sys.executable}\0{sys.prefix}\0{group}".encode()
    key = f"{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}"
    return root / "plugins" / f"{key}.json"


def _read(path: Path, fingerprint: list[Any]) -> list[tuple[str, str, str, str]] | None:
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
        if data["fingerprint"] != fingerprint:
            return None
        return [(str(n), str(v), str(d), str(ver)) for n, v, d, ver in data["entry_points"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not written yet, written by another format, or damaged: list again


def _write(path: Path, fingerprint: list[Any], found: list[tuple[str, str, str, str]]) -> None:
    """Replace the file atomically; a directory that cannot be written is left alone."""
    import tempfile

    data = {"fingerprint": fingerprint, "entry_points": [list(item) for item in found]}
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file)
        os.replace(temporary, path)
        temporary = None
    except OSError:
        pass
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
