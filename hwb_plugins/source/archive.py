"""Safe extraction of source distributions.

Every member is checked before anything is written: no absolute paths, no ``..``, no links that
lead out of the extraction directory, no devices, and no more members or bytes than
:class:`Limits` allow (a tar bomb). One bad member rejects the whole archive.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import posixpath
import tarfile
import zipfile
from pathlib import Path

from hwb import UnsafeArchive, UsageError

SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")


@dataclasses.dataclass(frozen=True)
class Limits:
    """How much an sdist may unpack to (``sdist.max-files``, ``sdist.max-megabytes``)."""

    files: int = 250_000
    megabytes: int = 2048

    def check(self, archive: Path, files: int, size: int) -> None:
        if files > self.files:
            raise UnsafeArchive(
                f"{archive.name} holds more members than the limit of {self.files}",
                hint="if it is a real sdist, raise sdist.max-files (HWB_SDIST_MAX_FILES)",
            )
        if size > self.megabytes * 1024 * 1024:
            raise UnsafeArchive(
                f"{archive.name} unpacks to more than the limit of {self.megabytes} MB",
                hint="if it is a real sdist, raise sdist.max-megabytes (HWB_SDIST_MAX_MEGABYTES)",
            )


def is_sdist(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(SDIST_SUFFIXES)


def _check_name(archive: Path, name: str) -> str:
    normal = posixpath.normpath(name.replace("\\", "/"))
    if (
        name.startswith(("/", "\\"))
        or (len(name) > 1 and name[1] == ":")
        or normal.startswith("..")
    ):
        raise UnsafeArchive(
            f"{archive.name} contains {name!r}, which points outside the archive",
            hint="refusing to extract it; rebuild the sdist from a clean tree",
        )
    return normal


def _check_link(archive: Path, member: tarfile.TarInfo) -> None:
    if member.issym():
        target = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), member.linkname))
    else:
        target = posixpath.normpath(member.linkname)
    if member.linkname.startswith("/") or target.startswith(".."):
        raise UnsafeArchive(
            f"{archive.name} contains a link {member.name!r} -> {member.linkname!r} that leads out of the archive",
            hint="refusing to extract it; rebuild the sdist from a clean tree",
        )


def extract_sdist(archive: Path, dest: Path, limits: Limits | None = None) -> Path:
    """Extract ``archive`` into ``dest`` and return the project root inside it."""
    limits = limits or Limits()
    try:
        if archive.name.lower().endswith(".zip"):
            _extract_zip(archive, dest, limits)
        else:
            _extract_tar(archive, dest, limits)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise  # the disk's, not the archive's: the pipeline says which disk
        if isinstance(exc, getattr(tarfile, "FilterError", ())):
            # PEP 706's data filter saw through what the member checks cannot (a chain of
            # links that leads out): the archive is hostile, not unreadable.
            raise UnsafeArchive(
                f"{archive.name}: {exc}",
                hint="refusing to extract it; rebuild the sdist from a clean tree",
            ) from None
        raise UsageError(
            f"cannot read {archive}: {_first_line(exc)}",
            hint="is it a complete sdist (a .tar.gz or .zip)?",
        ) from None
    entries = [p for p in dest.iterdir()]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest


def _first_line(exc: BaseException) -> str:
    """tarfile's "could not be opened successfully" lists every compression it tried, one per
    line: it is not any of them."""
    text = str(exc).strip()
    if "could not be opened successfully" in text:
        return "not a tar archive (gzip, bzip2, xz or plain) nor a zip file"
    return text.splitlines()[0] if text else type(exc).__name__


def _extract_tar(archive: Path, dest: Path, limits: Limits) -> None:
    with tarfile.open(archive) as tar:
        members = []
        size = 0
        for member in tar:  # counted as read: a bomb of headers stops early too
            members.append(member)
            size += member.size if member.isfile() else 0
            if len(members) > limits.files or size > limits.megabytes * 1024 * 1024:
                limits.check(archive, len(members), size)
        for member in members:
            _check_name(archive, member.name)
            if member.issym() or member.islnk():
                _check_link(archive, member)
            elif not (member.isfile() or member.isdir()):
                raise UnsafeArchive(
                    f"{archive.name} contains {member.name!r}, which is a device or pipe",
                    hint="refusing to extract it; an sdist holds only files, directories and links",
                )
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover - Python without the PEP 706 backport
            tar.extractall(dest, members=members)


def _extract_zip(archive: Path, dest: Path, limits: Limits) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        limits.check(archive, len(infos), sum(info.file_size for info in infos))
        for info in infos:
            _check_name(archive, info.filename)
            mode = (info.external_attr >> 16) & 0o170000
            if mode == 0o120000:
                raise UnsafeArchive(
                    f"{archive.name} contains a symbolic link {info.filename!r}",
                    hint="refusing to extract it",
                )
        for info in zf.infolist():
            zf.extract(info, dest)
            perm = (info.external_attr >> 16) & 0o777
            if perm:
                os.chmod(dest / info.filename, perm | 0o600)
