"""Build environments kept between builds (``[tool.hwb.isolation.venv] cache-envs``).

Layout, under ``hwb_core.paths.cache_dir() / "envs"``::

    <key>/                 a complete virtual environment
    <key>/hwb-env.json     its record (written last, before the rename that publishes it)
    <key>/.hwb-last-used   touched by every build that uses it
    <key>.lock             held while <key> is checked, created, replaced or removed
    <key>.use              shared-locked by every build using <key> (POSIX), so that nobody
                           removes an environment a build is running in
    .tmp-<key>-XXXX/       an environment being made; renamed to <key> when complete

The key is a hash of the interpreter (resolved path, version, size and modification time of its
executable), the installer and its index settings, the exact set of requirements, and the
content of the build constraints file (``build-constraint``) when there is one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from hwb import PythonInfo, Reporter
from hwb_plugins.venv.windows import env_python

FORMAT = 2
MARKER = "hwb-env.json"
LAST_USED = ".hwb-last-used"
TMP_PREFIX = ".tmp-"
DAY = 86400.0

#: Environment variables that change what an installer resolves: part of the key.
INSTALLER_VARIABLES = (
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_CONSTRAINT",
    "UV_OVERRIDE",
    "UV_PRERELEASE",
    "UV_RESOLUTION",
    "UV_EXCLUDE_NEWER",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_CONSTRAINT",
    "PIP_PRE",
    "PIP_CONFIG_FILE",
)

#: Variables a build target sets that change what gets compiled when a requirement comes as an
#: sdist (macOS deployment target, architectures): part of the key too.
TARGET_VARIABLES = ("MACOSX_DEPLOYMENT_TARGET", "ARCHFLAGS", "_PYTHON_HOST_PLATFORM")


def envs_dir() -> Path:
    from hwb.paths import cache_dir

    return cache_dir() / "envs"


def normalize_requirements(requirements: Sequence[str]) -> list[str]:
    """Sorted, de-duplicated, in one spelling (:func:`hwb.requirements.normalize_all`)."""
    from hwb import normalize_all

    return normalize_all(requirements)


def interpreter_identity(python: PythonInfo) -> dict[str, Any]:
    real = os.path.realpath(python.path)
    try:
        st = os.stat(real)
        mtime_ns, size = st.st_mtime_ns, st.st_size
    except OSError:
        mtime_ns, size = 0, 0
    return {
        "path": python.path,
        "realpath": real,
        "version": python.version,
        "implementation": python.implementation,
        "abi": python.abi_tag,
        "mtime_ns": mtime_ns,
        "size": size,
    }


def env_key(
    python: PythonInfo,
    requirements: Sequence[str],
    installer: str,
    environ: Mapping[str, str],
    constraints: str = "",
) -> tuple[str, dict[str, Any]]:
    """``(key, what it was made from)`` for an environment holding exactly ``requirements``,
    installed within the build constraints whose content has sha256 ``constraints``."""
    identity: dict[str, Any] = {
        "format": FORMAT,
        "python": interpreter_identity(python),
        "installer": installer,
        "installer_settings": {k: environ[k] for k in INSTALLER_VARIABLES if environ.get(k)},
        "target": {k: environ[k] for k in TARGET_VARIABLES if environ.get(k)},
        "requirements": normalize_requirements(requirements),
    }
    if constraints:
        identity["build_constraints"] = constraints
    blob = json.dumps(identity, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:20], identity


# --------------------------------------------------------------------------- locks


class _UseLock:
    """A shared (build) or exclusive (removal) lock on ``<key>.use``; POSIX only, a no-op elsewhere."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, *, exclusive: bool, blocking: bool = True) -> bool:
        try:
            import fcntl
        except ImportError:  # Windows: environments in use are not protected from removal
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        flags = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None


class _FlockKeyLock:
    """The exclusive lock on ``<key>.lock`` that making, checking and removing an environment
    hold: ``flock`` on POSIX (filelock's import alone costs a warm build 20 ms or more)."""

    def __init__(self, path: Path) -> None:
        self.lock = _UseLock(path)

    def acquire(self, timeout: float | None = None) -> None:
        if not self.lock.acquire(exclusive=True, blocking=timeout != 0):
            raise TimeoutError(f"{self.lock.path} is locked")

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> _FlockKeyLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _key_lock(root: Path, key: str) -> Any:
    try:
        import fcntl  # noqa: F401
    except ImportError:  # Windows
        from filelock import FileLock

        return FileLock(str(root / f"{key}.lock"))
    return _FlockKeyLock(root / f"{key}.lock")


# --------------------------------------------------------------------------- checking


def read_record(env_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((env_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def problem(
    env_dir: Path, key: str, max_age_days: float, *, now: float | None = None
) -> str | None:
    """Why the environment at ``env_dir`` cannot be reused, or ``None`` when it can."""
    if not env_dir.is_dir():
        return "not built yet"
    record = read_record(env_dir)
    if record is None:
        return "incomplete (no completion record)"
    if record.get("format") != FORMAT or record.get("key") != key:
        return "made by another version of hwb"
    created = float(record.get("created", 0))
    if max_age_days > 0 and (now or time.time()) - created > max_age_days * DAY:
        return f"older than the age limit ({max_age_days:g} days)"
    python = env_python(env_dir)
    if not os.access(python, os.X_OK):  # follows the link to the base interpreter
        return f"its interpreter {python} is missing"
    try:
        same = record.get("tree") == fingerprint(env_dir)
    except OSError:
        same = False
    if not same:
        return CHANGED
    # Not started to check it (that costs a warm build 20 to 40 ms): the key holds the base
    # interpreter's size and mtime, so a replaced interpreter has another key, and a venv whose
    # link resolves runs. An environment broken in a way this cannot see fails its build;
    # --refresh-envs rebuilds it.
    return None


# --------------------------------------------------------------------------- acquiring


@dataclasses.dataclass
class Acquired:
    key: str
    path: Path
    reused: bool
    reason: str
    """Why it was (re)built, empty when reused."""
    lock: _UseLock


Builder = Callable[[Path], None]


def acquire(
    key: str,
    identity: Mapping[str, Any],
    build: Builder,
    *,
    refresh: bool,
    max_age_days: float,
    reporter: Reporter,
) -> Acquired:
    """The environment for ``key``, reused when complete and healthy, else made by ``build``
    (called with an empty temporary directory) and renamed into place. The caller holds a shared
    use lock on the result until it calls ``result.lock.release()``."""
    root = envs_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from hwb import BuildError

        raise BuildError(
            f"cannot keep cached environments in {root} ({exc.strerror or exc})",
            hint="set HWB_CACHE_DIR to a writable directory, or build without --cache-envs",
        ) from None
    final = root / key
    use = _UseLock(root / f"{key}.use")
    with _key_lock(root, key):
        _sweep_tmp(root, key)
        reason = (
            "refresh asked for" if refresh and final.exists() else problem(final, key, max_age_days)
        )
        if reason == CHANGED:
            reporter.warn(f"the cached build environment {key} {CHANGED}: making it again")
        if reason is None:
            use.acquire(exclusive=False)
            touch_last_used(final)
            return Acquired(key, final, True, "", use)
        if final.exists():
            # Wait until no build runs in it, then take it away.
            remover = _UseLock(root / f"{key}.use")
            remover.acquire(exclusive=True)
            try:
                _remove(final)
            finally:
                remover.release()
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{key}-", dir=root))
        try:
            build(tmp)
            _compile(tmp, final)
            _relocate(tmp, final)
            record = {
                "format": FORMAT,
                "key": key,
                "created": time.time(),
                "tree": fingerprint(tmp),
                "python": identity.get("python", {}),
                "installer": identity.get("installer"),
                "requirements": list(identity.get("requirements", [])),
            }
            (tmp / MARKER).write_text(json.dumps(record, indent=2), encoding="utf-8")
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        use.acquire(exclusive=False)
        touch_last_used(final)
        return Acquired(key, final, False, reason, use)


#: Why an environment is made again when something wrote into it after it was made (a build
#: on the host runs as you: its backend can write into hwb's cache).
CHANGED = "changed since it was made"


def fingerprint(env_dir: Path) -> str:
    """Everything of the environment but its record and what hwb keeps in it for later builds
    (``.hwb-*``: the last use, the list of its distributions)."""
    from hwb.paths import tree_fingerprint

    return tree_fingerprint(env_dir, (MARKER, ".hwb-"))


def touch_last_used(env_dir: Path) -> None:
    with contextlib.suppress(OSError):
        (env_dir / LAST_USED).touch()


def _sweep_tmp(root: Path, key: str) -> None:
    """Directories ``.tmp-<key>-*`` seen while holding the key's lock were abandoned (a killed build)."""
    for path in root.glob(f"{TMP_PREFIX}{key}-*"):
        shutil.rmtree(path, ignore_errors=True)


def _remove(env_dir: Path) -> None:
    """Take ``env_dir`` away at once (a rename), then delete it."""
    trash = env_dir.with_name(f"{TMP_PREFIX}{env_dir.name}-trash-{os.getpid()}")
    try:
        os.rename(env_dir, trash)
    except OSError:
        trash = env_dir
    shutil.rmtree(trash, ignore_errors=True)


def _site_dirs(env_dir: Path) -> list[Path]:
    if os.name == "nt":
        return [env_dir / "Lib"]
    return [p for p in (env_dir / "lib").glob("*") if p.is_dir()]


def _compile(tmp: Path, final: Path) -> None:
    """Compile the environment's modules, with the paths they will have after the rename."""
    dirs = [str(p) for p in _site_dirs(tmp)]
    if not dirs:
        return
    cmd = [
        str(env_python(tmp)),
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "-s",
        str(tmp),
        "-p",
        str(final),
        *dirs,
    ]
    subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=600,
    )


def _relocate(tmp: Path, final: Path) -> None:
    """Rewrite the temporary path to the final one in scripts and ``pyvenv.cfg``."""
    old, new = str(tmp).encode(), str(final).encode()
    scripts = env_python(tmp).parent
    candidates = [tmp / "pyvenv.cfg", *(p for p in scripts.iterdir() if not p.is_symlink())]
    for path in candidates:
        try:
            if not path.is_file() or path.stat().st_size > 1 << 20:
                continue
            data = path.read_bytes()
            if old in data:
                mode = path.stat().st_mode
                path.write_bytes(data.replace(old, new))
                os.chmod(path, mode)
        except OSError:
            continue


# --------------------------------------------------------------------------- listing, clearing


def _size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


@dataclasses.dataclass
class Entry:
    key: str
    path: Path
    python: str
    requirements: list[str]
    size: int
    created: float | None
    last_used: float | None
    state: str
    """``ok``, ``incomplete`` (no record: a broken environment) or ``building`` (a temporary
    directory of a build in progress or one that was killed)."""

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "key": self.key,
            "path": str(self.path),
            "python": self.python,
            "requirements": self.requirements,
            "size": self.size,
            "state": self.state,
            "created": self.created,
            "last_used": self.last_used,
            "age_days": None if self.created is None else round((now - self.created) / DAY, 3),
        }


def entries() -> list[Entry]:
    root = envs_dir()
    if not root.is_dir():
        return []
    found: list[Entry] = []
    for path in sorted(root.iterdir()):
        if not path.is_dir():
            continue
        if path.name.startswith(TMP_PREFIX):
            key = path.name[len(TMP_PREFIX) :].split("-")[0]
            found.append(Entry(key, path, "", [], _size(path), None, None, "building"))
            continue
        record = read_record(path)
        if record is None:
            found.append(Entry(path.name, path, "", [], _size(path), None, None, "incomplete"))
            continue
        py = record.get("python") or {}
        python = f"{py.get('version', '?')} ({py.get('path', '?')})"
        try:
            last_used: float | None = (path / LAST_USED).stat().st_mtime
        except OSError:
            last_used = None
        found.append(
            Entry(
                path.name,
                path,
                python,
                list(record.get("requirements") or []),
                _size(path),
                float(record.get("created", 0)),
                last_used,
                "ok",
            )
        )
    return found


@dataclasses.dataclass
class Removal:
    entry: Entry
    removed: bool
    note: str = ""


def clear(older_than_days: float | None = None, *, now: float | None = None) -> list[Removal]:
    """Remove environments (all, or those created more than ``older_than_days`` ago) that no
    build is using. Incomplete and abandoned ones always go."""
    root = envs_dir()
    now = time.time() if now is None else now
    results: list[Removal] = []
    for entry in entries():
        if (
            older_than_days is not None
            and entry.state == "ok"
            and entry.created is not None
            and now - entry.created < older_than_days * DAY
        ):
            continue
        lock = _key_lock(root, entry.key)
        try:
            lock.acquire(timeout=0)
        except Exception:
            results.append(Removal(entry, False, "being built or used now; kept"))
            continue
        try:
            if entry.state == "building" or not entry.path.exists():
                shutil.rmtree(entry.path, ignore_errors=True)
                results.append(Removal(entry, True))
                continue
            use = _UseLock(root / f"{entry.key}.use")
            if not use.acquire(exclusive=True, blocking=False):
                results.append(Removal(entry, False, "a build is using it; kept"))
                continue
            try:
                _remove(entry.path)
            finally:
                use.release()
            results.append(Removal(entry, True))
        finally:
            lock.release()
    # The .lock and .use files stay: removing a lock file another process may be waiting on
    # would let two processes hold "the" lock at once.
    return results


@contextlib.contextmanager
def holding(acquired: Acquired) -> Iterator[Acquired]:
    try:
        yield acquired
    finally:
        acquired.lock.release()
