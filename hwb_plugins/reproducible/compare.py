"""The same inputs, the same bytes: where a build's ``SOURCE_DATE_EPOCH`` comes from, the
normalised time of what hwb writes into wheels, and comparing two builds of one source
(``--check-reproducible``).

``SOURCE_DATE_EPOCH`` is, in this order: the newest member time of the sdist being built; the
time of the last commit of a source directory that is a git checkout; the setting
``reproducible.source-date-epoch``; ``SOURCE_DATE_EPOCH`` in hwb's own environment. The
backend's processes and the repair get it; :func:`hwb.wheelfile.rewrite` stamps every
member it writes with it.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import os
import shutil
import subprocess
import tarfile
import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwb import ConfigKey

if TYPE_CHECKING:
    from hwb import Config

ENABLED, EPOCH, CHECK = (
    "reproducible.enabled",
    "reproducible.source-date-epoch",
    "reproducible.check",
)
KEYS = {
    ENABLED: ConfigKey(
        "bool",
        True,
        "Set SOURCE_DATE_EPOCH for the backend and the repair (from the sdist, the last "
        "commit or source-date-epoch) and normalise what hwb writes into wheels.",
    ),
    EPOCH: ConfigKey(
        "int",
        None,
        "SOURCE_DATE_EPOCH (seconds since 1970) when the source is neither an sdist nor a git "
        "checkout.",
        env="HWB_SOURCE_DATE_EPOCH",
    ),
    CHECK: ConfigKey(
        "bool",
        False,
        "Build twice, in separate fresh environments, and report the wheel's members that "
        "differ (--check-reproducible).",
    ),
}

#: The earliest time a zip archive can hold.
ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z

_current: contextvars.ContextVar[int | None] = contextvars.ContextVar("source_date_epoch")


def current() -> int | None:
    """The ``SOURCE_DATE_EPOCH`` of the build running in this thread, if any."""
    return _current.get(None)


@contextlib.contextmanager
def using(epoch: int | None) -> Iterator[None]:
    token = _current.set(epoch)
    try:
        yield
    finally:
        _current.reset(token)


def zip_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    """A zip member's ``date_time`` for ``epoch`` (UTC; not before 1980)."""
    return time.gmtime(max(epoch, ZIP_EPOCH))[:6]


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


def git_revision(directory: Path) -> tuple[str, bool] | None:
    """``(HEAD's commit, whether the tree has uncommitted changes)`` of a git checkout."""
    head = _git(directory, "rev-parse", "HEAD")
    if head is None:
        return None
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    return head, bool(status)


def last_commit_time(directory: Path) -> int | None:
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


# --------------------------------------------------------------------------- comparing


@dataclasses.dataclass
class Comparison:
    """What ``--check-reproducible`` found: two builds of one source, member by member."""

    first: Path
    second: Path
    sha256: tuple[str, str]
    """The two wheels' digests (the second build's wheel is gone once compared)."""
    differences: list[dict[str, str]]
    """``{"member": name, "what": "content" | "timestamp" | "permissions" | "only in the
    first build" | ...}``."""
    source_date_epoch: int | None = None

    @property
    def identical(self) -> bool:
        return not self.differences and self.sha256[0] == self.sha256[1]

    def members(self) -> list[str]:
        return list(dict.fromkeys(d["member"] for d in self.differences))

    def to_json(self) -> dict[str, Any]:
        return {
            "identical": self.identical,
            "sha256": list(self.sha256),
            "differences": list(self.differences),
            "source_date_epoch": self.source_date_epoch,
        }

    def describe(self) -> str:
        if self.identical:
            return (
                f"reproducible: a second build gave the same bytes (sha256 {_sha256(self.first)})"
            )
        named = ", ".join(f"{d['member']} ({d['what']})" for d in self.differences[:10])
        more = f" and {len(self.differences) - 10} more" if len(self.differences) > 10 else ""
        return f"not reproducible: a second build differs in {named or 'the archive'}{more}"


def compare(first: Path, second: Path, epoch: int | None = None) -> Comparison:
    differences: list[dict[str, str]] = []
    if first.name != second.name:
        differences.append({"member": "(file name)", "what": f"{first.name} vs {second.name}"})
    with zipfile.ZipFile(first) as one, zipfile.ZipFile(second) as two:
        a = {info.filename: info for info in one.infolist()}
        b = {info.filename: info for info in two.infolist()}
        for name in a.keys() - b.keys():
            differences.append({"member": name, "what": "only in the first build"})
        for name in b.keys() - a.keys():
            differences.append({"member": name, "what": "only in the second build"})
        for name in [n for n in a if n in b]:
            left, right = a[name], b[name]
            if one.read(left) != two.read(right):
                differences.append({"member": name, "what": "content"})
            if left.date_time != right.date_time:
                differences.append({"member": name, "what": "timestamp"})
            if left.external_attr != right.external_attr:
                differences.append({"member": name, "what": "permissions"})
            if left.compress_type != right.compress_type:
                differences.append({"member": name, "what": "compression"})
        if not differences and list(a) != list(b):
            differences.append({"member": "(archive)", "what": "member order"})
    # RECORD holds every member's hash: it differs whenever another does, so it comes last.
    differences.sort(
        key=lambda d: (d["member"].endswith(".dist-info/RECORD"), d["member"], d["what"])
    )
    return Comparison(first, second, (_sha256(first), _sha256(second)), differences, epoch)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
