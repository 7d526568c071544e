"""Reading wheel names and contents, and writing a changed copy of a wheel with a correct RECORD.

For repairers and organizations' policies (see ``docs/repair.md``): a policy that adds a file
to a wheel calls :func:`rewrite`, which writes a new wheel and leaves the input untouched.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import tempfile
import time
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from hwb_core.errors import RepairError, UsageError
from hwb_core.wheelfile import current, using

#: The earliest time a zip archive can hold.
ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z

__all__ = [
    "ZIP_EPOCH",
    "current",
    "dist_info",
    "identifier",
    "is_pure",
    "names",
    "platform_tags",
    "read",
    "rewrite",
    "using",
    "with_platform",
    "zip_time",
]

_SIGNATURES = ("RECORD.jws", "RECORD.p7s")


def identifier(python_tag: str, wheel: Path) -> str:
    """A build's identifier, as CI matrices name builds: the interpreter's tag (``cp312``,
    ``cp313t``, ``pp39``) and the wheel's platform without its version numbers
    (``manylinux_x86_64``, ``musllinux_aarch64``, ``macosx_arm64``, ``win_amd64``); a pure
    wheel's are its own tags (``py3-none-any``), as ``hwb matrix`` names its one job.
    ``python_tag`` may be an ABI tag (``pypy39_pp73`` gives ``pp39``)."""
    import re

    if is_pure(wheel):  # one wheel for every interpreter: its own tags (py3-none-any)
        return "-".join(_stem(wheel).split("-")[-3:])
    pypy = re.fullmatch(r"pypy(\d+)_pp\d+", python_tag)
    python = f"pp{pypy.group(1)}" if pypy else python_tag
    platform = platform_tags(wheel)[0]
    platform = re.sub(r"^(manylinux|musllinux)_\d+_\d+_", r"\1_", platform)
    platform = re.sub(r"^manylinux(1|2010|2014)_", "manylinux_", platform)
    platform = re.sub(r"^macosx_\d+_\d+_", "macosx_", platform)
    return f"{python}-{platform}"


def with_platform(wheel_name: str, tag: str) -> str:
    """``wheel_name`` with its platform tag replaced by ``tag``."""
    return _stem(Path(wheel_name)).rsplit("-", 1)[0] + f"-{tag}.whl"


def names(wheel: Path) -> list[str]:
    """Every member's name, in archive order."""
    with _open(wheel) as zf:
        return zf.namelist()


def dist_info(wheel: Path) -> str:
    """The name of the wheel's ``*.dist-info`` directory (``yamlext-1.0.dist-info``)."""
    found = {n.split("/", 1)[0] for n in names(wheel) if n.split("/", 1)[0].endswith(".dist-info")}
    if len(found) != 1:
        raise RepairError(
            f"{wheel.name} has {len(found)} .dist-info directories",
            hint="a wheel must hold exactly one NAME-VERSION.dist-info directory",
        )
    return found.pop()


def read(wheel: Path, member: str) -> bytes:
    with _open(wheel) as zf:
        return zf.read(member)


def _open(wheel: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UsageError(
            f"{wheel} cannot be read as a wheel ({exc})", hint="is it a complete .whl file?"
        ) from None


def rewrite(
    wheel: Path,
    out_dir: Path,
    *,
    add: Mapping[str, bytes] | None = None,
    remove: Iterable[str] = (),
    name: str | None = None,
) -> Path:
    """Write a copy of ``wheel`` into ``out_dir`` with files added (or replaced) and removed,
    and its RECORD computed again. Returns the new wheel's path (``name`` or the same file
    name). The file appears atomically; when it has the input's path, it replaces the input.

    Members keep their order (additions follow, sorted, and RECORD comes last); during a build
    with a ``SOURCE_DATE_EPOCH`` (:func:`current`) every member is
    stamped with that time and given normalised permissions, so that the same input gives the
    same bytes."""
    epoch = current()
    stamp = zip_time(epoch) if epoch is not None else None
    additions = dict(sorted((add or {}).items()))
    removals = set(remove)
    target = out_dir / (name or wheel.name)
    record_name = dist_info(wheel) + "/RECORD"
    rows: list[tuple[str, str, str]] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=out_dir, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    try:
        with _open(wheel) as src, zipfile.ZipFile(tmp_name, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                member = info.filename
                if member == record_name or member.rsplit("/", 1)[-1] in _SIGNATURES:
                    continue
                if member in removals:
                    continue
                data = additions.pop(member) if member in additions else src.read(info)
                dst.writestr(_copy_info(info, stamp), data)
                if not member.endswith("/"):
                    rows.append((member, _digest(data), str(len(data))))
            for member, data in additions.items():
                info = zipfile.ZipInfo(member, date_time=stamp or (2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                dst.writestr(info, data)
                rows.append((member, _digest(data), str(len(data))))
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerows(rows)
            writer.writerow((record_name, "", ""))
            record = zipfile.ZipInfo(record_name, date_time=stamp or (2020, 1, 1, 0, 0, 0))
            record.external_attr = 0o100644 << 16
            record.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(record, text.getvalue())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def _copy_info(
    info: zipfile.ZipInfo, stamp: tuple[int, int, int, int, int, int] | None
) -> zipfile.ZipInfo:
    """The member's entry for the copy: with a build's ``SOURCE_DATE_EPOCH`` (``stamp``), its
    time is that and its permissions are 644, or 755 when any execute bit was set (a
    directory: 755); without, as it was."""
    copy = zipfile.ZipInfo(info.filename, date_time=stamp or info.date_time)
    copy.external_attr = info.external_attr
    if stamp is not None:
        mode = (info.external_attr >> 16) & 0o7777
        if info.is_dir():
            copy.external_attr = (0o40755 << 16) | 0x10
        else:
            copy.external_attr = (0o100755 if mode & 0o111 else 0o100644) << 16
    copy.compress_type = zipfile.ZIP_DEFLATED
    return copy


def _digest(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def zip_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    """A zip member's ``date_time`` for ``epoch`` (UTC; not before 1980)."""
    return time.gmtime(max(epoch, ZIP_EPOCH))[:6]


def platform_tags(wheel: Path) -> list[str]:
    """The platform tags of ``wheel``'s file name, in the order written (``["linux_x86_64"]``,
    ``["manylinux_2_17_x86_64", "manylinux2014_x86_64"]``, ``["any"]``). The name is checked
    with ``packaging.utils.parse_wheel_filename``, whose tag set keeps no order."""
    stem = _stem(wheel)
    return stem.rsplit("-", 1)[-1].split(".")


def is_pure(wheel: Path) -> bool:
    """True for a wheel every tag of which is platform ``any`` (``py3-none-any``)."""
    return platform_tags(wheel) == ["any"]


def _stem(wheel: Path) -> str:
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        parse_wheel_filename(wheel.name)
    except InvalidWheelFilename:
        raise UsageError(
            f"{wheel.name} is not a wheel file name",
            hint="a wheel is named NAME-VERSION(-BUILD)-PYTHON-ABI-PLATFORM.whl",
        ) from None
    return wheel.name[: -len(".whl")]
