"""A build's time limit (``--timeout``, the ``timeout`` key).

The pipeline sets it for the build running in this thread (``hwb matrix`` runs one build per
thread, so each job has its own); whatever runs a command of the build asks
:func:`remaining` and stops the command when the time is up: :func:`hwb.process.run` stops
the process group, the container isolations stop the container. The error is
:class:`hwb_core.errors.BuildTimeout`, exit code 124.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Iterator

_deadline: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "hwb_deadline", default=None
)


#: Longer limits are no limit: a timer cannot wait longer (``threading.TIMEOUT_MAX`` is 49 days
#: on Windows; waiting past 292 years overflows elsewhere), and no build would reach them.
FOREVER = min(1e9, threading.TIMEOUT_MAX / 2)


@contextlib.contextmanager
def limit(seconds: float | None) -> Iterator[None]:
    """Within the block, commands of the build must end ``seconds`` from now (``None``, 0 or
    :data:`FOREVER` and more: no limit)."""
    running = seconds is not None and 0 < seconds < FOREVER
    token = _deadline.set((time.monotonic() + (seconds or 0), seconds or 0) if running else None)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left (0 when the time is up), or ``None`` without a limit."""
    current = _deadline.get()
    return None if current is None else max(0.0, current[0] - time.monotonic())


def seconds() -> float | None:
    """The limit itself, for messages."""
    current = _deadline.get()
    return None if current is None else current[1]


def expired(what: str) -> Exception:
    """The error for ``what`` (a command, a step) stopped at the limit."""
    from hwb_core.errors import BuildTimeout

    return BuildTimeout(
        f"{what} ran past the build's time limit of {seconds():g} s and was stopped",
        hint="raise it with --timeout SECONDS (or the timeout key), or 0 for none",
    )
