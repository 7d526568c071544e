"""A build's time limit (``--timeout``, the ``timeout`` key).

The pipeline sets it for the build running in this thread (``hwb matrix`` runs one build per
thread, so each job has its own); whatever runs a command of the build asks
:func:`remaining` and stops the command when the time is up: :func:`hwb_core.process.run` stops
the process group, the container isolations stop the container. The error is
:class:`hwb_core.errors.BuildTimeout`, exit code 124.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator

_deadline: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "hwb_deadline", default=None
)


@contextlib.contextmanager
def limit(seconds: float | None) -> Iterator[None]:
    """Within the block, commands of the build must end ``seconds`` from now (``None`` or 0:
    no limit)."""
    token = _deadline.set((time.monotonic() + seconds, seconds) if seconds else None)
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
