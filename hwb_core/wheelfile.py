"""What the kernel needs of wheel files: the ``SOURCE_DATE_EPOCH`` of the build running in
this thread, which what writes a wheel stamps it with. Reading and rewriting wheels is the
toolkit's (:mod:`hwb.wheelfile`).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

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
