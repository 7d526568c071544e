"""Asking interpreters what they are, once: the toolkit of finder plugins.

A finder (the ``list_pythons`` and ``find_python`` hooks) only lists candidate executables;
:func:`interrogate_many` runs each one once to learn its version, implementation and ABI tag,
and caches the answer keyed by path and mtime. :func:`best_match` picks the newest that matches
a :class:`PythonSpec`; :func:`executable_in` finds the interpreter of an installation directory.

Resolving ``--python`` the way a build does (the finders' answer, or the error that names what
they found) is :func:`find`; :func:`list_all` is every interpreter every finder lists;
:func:`wanted` is the version asked for, described without an interpreter on this machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hwb_core.errors import PythonNotFound
from hwb_core.interfaces import PythonInfo, PythonSpec
from hwb_core.pythons import find, list_all, wanted

__all__ = [
    "PROBE",
    "PythonInfo",
    "PythonSpec",
    "best_match",
    "current",
    "executable_in",
    "find",
    "info_from_probe",
    "interrogate",
    "interrogate_many",
    "list_all",
    "packaging_location",
    "wanted",
]

#: The one probe of an interpreter, on the host and in containers: run as
#: ``python -c PROBE DIR``, where DIR holds hwb's own ``packaging``, it prints one JSON line.
#: The ABI tag is ``packaging.tags``' (the interpreter's first supported tag); interpreters too
#: old for that ``packaging`` (before 3.9, and 2.7) get the same rule written out. Also: the
#: C library (``["glibc", "2.36"]``, ``["musl", "1.2.4"]``), the version of its pip, if any, and
#: whether it is a free-threaded build (``Py_GIL_DISABLED``).
PROBE = r"""
import json, os, platform, sys, sysconfig
impl = getattr(sys, "implementation", None)
name = impl.name if impl else platform.python_implementation().lower()
ver = sys.version_info
tag = None
if len(sys.argv) > 1 and sys.argv[1]:
    sys.path.insert(0, sys.argv[1])
    try:
        from packaging import tags
        tag = next(iter(tags.sys_tags())).abi
    except Exception:
        pass
    del sys.path[0]
if tag is None and name == "cpython":
    var = sysconfig.get_config_var
    tag = "cp%d%d" % (ver[0], ver[1])
    if var("Py_GIL_DISABLED"):
        tag += "t"
    if var("Py_DEBUG"):
        tag += "d"
    if ver < (3, 8) and (var("WITH_PYMALLOC") or var("WITH_PYMALLOC") is None):
        tag += "m"
    if ver < (3, 3) and sys.maxunicode == 0x10FFFF:
        tag += "u"
elif tag is None and name == "pypy":
    tag = "pypy%d%d_pp%d%d" % (ver[0], ver[1], sys.pypy_version_info[0], sys.pypy_version_info[1])
elif tag is None:
    tag = (sysconfig.get_config_var("SOABI") or "none").replace("-", "_").replace(".", "_")
libc = ["", "0.0"]
try:
    found = os.confstr("CS_GNU_LIBC_VERSION")
    if found:
        libc = found.split()[:2]
except (AttributeError, ValueError, OSError):
    pass
if not libc[0] and sys.platform.startswith("linux"):
    found = platform.libc_ver()
    if found[0] == "glibc":
        libc = list(found)
if not libc[0] and sys.platform.startswith("linux"):
    import glob, subprocess
    for loader in glob.glob("/lib/ld-musl-*.so.1"):
        out = subprocess.Popen([loader], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for line in out.communicate()[1].decode("utf-8", "replace").splitlines():
            if line.startswith("Version"):
                libc = ["musl", line.split()[1]]
try:
    import pip
    pip_version = pip.__version__
except Exception:
    pip_version = ""
env = {
    "implementation_name": name,
    "implementation_version": "%d.%d.%d" % tuple(ver[:3]),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": "%d.%d" % (ver[0], ver[1]),
    "sys_platform": sys.platform,
}
print(json.dumps({
    "version": platform.python_version(),
    "implementation": name,
    "abi_tag": tag,
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "platform_tag": sysconfig.get_platform().replace("-", "_").replace(".", "_"),
    "machine": platform.machine(),
    "libc": libc,
    "pip": pip_version,
    "marker_env": env,
}))
"""


def packaging_location() -> str:
    """The directory that holds hwb's own ``packaging`` (what :data:`PROBE` imports)."""
    import packaging

    return os.path.dirname(os.path.dirname(os.path.abspath(packaging.__file__)))


def info_from_probe(data: dict[str, Any], path: str, source: str) -> PythonInfo:
    """A :class:`PythonInfo` from :data:`PROBE`'s answer."""
    return PythonInfo(
        path=path,
        version=data["version"],
        implementation=data["implementation"],
        abi_tag=data["abi_tag"],
        source=source,
        platform_tag=data.get("platform_tag", ""),
        marker_env=data.get("marker_env", {}),
        free_threaded=bool(data.get("free_threaded", _free_threaded_abi(data["abi_tag"]))),
    )


def _free_threaded_abi(abi_tag: str) -> bool:
    """``cp313t`` (and the debug ``cp313td``): for answers saved before the probe said so."""
    return re.fullmatch(r"cp\d+td?", abi_tag) is not None


_CACHE_VERSION = 2  # answers saved without "free_threaded" are read by the ABI tag
_memory: dict[str, PythonInfo | None] = {}


def _cache_file() -> Path:
    from hwb_core.paths import cache_dir

    return cache_dir() / "interpreters.json"


def _load_disk_cache() -> dict[str, Any]:
    try:
        data = json.loads(_cache_file().read_text())
        if data.get("version") == _CACHE_VERSION:
            return dict(data.get("entries", {}))
    except (OSError, ValueError):
        pass
    return {}


def _save_disk_cache(entries: dict[str, Any]) -> None:
    path = _cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Unique per process and thread: hwb matrix asks from several threads at once.
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps({"version": _CACHE_VERSION, "entries": entries}))
        os.replace(tmp, path)
    except OSError:
        pass  # a cache we cannot write only costs time


def _stamp(path: str) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_mtime_ns}:{st.st_size}"


def _ask(path: str) -> dict[str, Any] | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    try:
        out = subprocess.run(
            [path, "-I", "-c", PROBE, packaging_location()],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        # Python 2 has no -I; try again with its equivalents.
        try:
            out = subprocess.run(
                [path, "-E", "-s", "-c", PROBE, packaging_location()],
                capture_output=True,
                text=True,
                timeout=30,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if out.returncode != 0:
            return None
    try:
        data: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return data


def _identity(path: str) -> str:
    """The path that stands for an interpreter: symlinks resolved (``python3`` and ``python3.12``
    are one interpreter), except in a virtual environment, whose ``bin/python`` links to the base
    interpreter but finds the environment's packages through the path it was started by."""
    absolute = os.path.abspath(path)
    bindir = os.path.dirname(absolute)
    for directory in (bindir, os.path.dirname(bindir)):
        if os.path.isfile(os.path.join(directory, "pyvenv.cfg")):
            return absolute
    return os.path.realpath(absolute)


def interrogate_many(paths: Iterable[str], source: str) -> list[PythonInfo]:
    """Ask each executable what it is (in parallel, cached); unusable ones are dropped."""
    unique: list[str] = []
    files: set[tuple[int, int]] = set()  # hard links (python3.13 and python3.13t) are one
    for path in paths:
        real = _identity(path)
        if real in unique or not os.access(real, os.X_OK) or not os.path.isfile(real):
            continue
        if real == os.path.realpath(real):  # not a virtual environment's link
            st = os.stat(real)
            if (st.st_dev, st.st_ino) in files:
                continue
            files.add((st.st_dev, st.st_ino))
        unique.append(real)
    disk = None
    todo = []
    results: dict[str, dict[str, Any] | None] = {}
    for real in unique:
        stamp = _stamp(real)
        if disk is None:
            disk = _load_disk_cache()
        entry = disk.get(real)
        if entry and entry.get("stamp") == stamp:
            results[real] = entry.get("info")
        else:
            todo.append(real)
    if todo:
        from concurrent.futures import ThreadPoolExecutor  # only when an interpreter is asked

        with ThreadPoolExecutor(max_workers=min(8, len(todo))) as pool:
            for real, data in zip(todo, pool.map(_ask, todo), strict=True):
                results[real] = data
        assert disk is not None
        for real in todo:
            disk[real] = {"stamp": _stamp(real), "info": results[real]}
        _save_disk_cache(disk)
    infos = []
    for real in unique:
        data = results.get(real)
        if data:
            infos.append(info_from_probe(data, real, source))
    infos.sort(key=lambda info: info.version_tuple)
    return infos


def interrogate(path: str, source: str) -> PythonInfo | None:
    found = interrogate_many([path], source)
    return found[0] if found else None


def best_match(spec: PythonSpec, candidates: Sequence[PythonInfo]) -> PythonInfo | None:
    """The newest candidate that matches ``spec`` (first one listed on a tie)."""
    best: PythonInfo | None = None
    for info in candidates:
        if spec.matches(info) and (best is None or info.version_tuple > best.version_tuple):
            best = info
    return best


def current() -> PythonInfo:
    """The interpreter running hwb (the default target)."""
    info = interrogate(sys.executable, "current")
    if info is None:  # pragma: no cover - the running interpreter always answers
        raise PythonNotFound(f"cannot ask {sys.executable} for its version")
    return info


def executable_in(prefix: Path, version_hint: str = "") -> Path | None:
    """The interpreter of an installation ``prefix`` (``prefix/bin/python3.12``), or ``None``.
    A hint naming a free-threaded build (``3.13.5t``, uv's ``cpython-3.13.5+freethreaded-...``)
    looks for ``python3.13t`` first, one naming PyPy (``pypy3.9-7.3.11``) for ``pypy3.9``."""
    bindir = prefix / ("Scripts" if os.name == "nt" else "bin")
    if os.name == "nt":
        exe = prefix / "python.exe"
        return exe if exe.is_file() else None
    names = []
    match = re.search(r"(\d+)\.(\d+)(?:\.\d+)?(?:[abrc]+\d+)?(t?)", version_hint)
    if match:
        short = f"{match.group(1)}.{match.group(2)}"
        if "pypy" in version_hint.lower():
            names.append(f"pypy{short}")
        elif match.group(3) or "freethreaded" in version_hint:
            names.append(f"python{short}t")
        names.append(f"python{short}")
    names += ["python3", "python", "pypy3"]
    for name in names:
        candidate = bindir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None
