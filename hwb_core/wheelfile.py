"""What the kernel needs of wheel files: a wheel's platform tags (is it pure?), and the
``SOURCE_DATE_EPOCH`` of the build running in this thread, which what writes a wheel stamps it
with. Reading and rewriting wheels is the toolkit's (:mod:`hwb.wheelfile`).
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from pathlib import Path

from hwb_core.errors import UsageError

#: The earliest time a zip archive can hold.
ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z

_current: contextvars.ContextVar[int | None] = contextvars.ContextVar("source_date_epoch")


def current() -> int | None:
    """The ``SOURCE_DATE_EPOCH`` of the build running in this thread, if any."""
    return _current.get(None)


@contextlib.contextmanager
def using(epoch: int | None) -> Iterator[None]:
    """Make ``epoch`` the ``SOURCE_DATE_EPOCH`` of what runs in this thread inside the block."""
    token = _current.set(epoch)
    try:
        yield
    finally:
        _current.reset(token)


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
