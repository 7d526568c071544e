"""The reporter a build reports through in CI: everything passed on to the command's own
reporter, and the build folded.

``hwb build`` (streamed): each step opens a group of its own, closed by the next step, so the
log reads as the list of steps, each unfolding to what it printed (``-v``: the backend's
output). ``hwb matrix`` (buffered): its jobs run side by side and their steps reach the console
at ``-v`` only, so everything a job reports is kept, at every level, and printed as one group
when the job ends, under a lock: the job's whole log, folded, in the CI's log.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from hwb_plugins.cilog.folds import Folds

#: The most lines of one job that a buffered group shows (the last ones; the job's log file
#: keeps them all).
MAX_LINES = 5000

_print_lock = threading.Lock()


class FoldingReporter:
    def __init__(self, inner: Any, folds: Folds, buffered: bool, stream: TextIO | None = None):
        self.inner = inner
        self.folds = folds
        self.buffered = buffered
        self.stream = stream or getattr(inner, "stream", None) or sys.stderr
        self.verbosity = inner.verbosity
        self.first_step: str | None = None
        self.last_step: str | None = None
        self.lines: list[str] = []
        self.dropped = 0
        self._start = time.monotonic()
        self._lock = threading.Lock()

    @property
    def live(self) -> bool:
        return bool(getattr(self.inner, "live", False))

    def _folding(self) -> bool:
        """Whether steps open groups on the console: streamed, and steps are shown."""
        return not self.buffered and self.inner.verbosity >= 0

    def print(self, *lines: str | None) -> None:
        text = "\n".join(line for line in lines if line is not None)
        if text:
            with _print_lock:
                print(text, file=self.stream, flush=True)

    def _keep(self, text: str) -> None:
        if self.buffered:
            with self._lock:
                self.lines.append(text)
                if len(self.lines) > MAX_LINES:
                    del self.lines[0]
                    self.dropped += 1

    def step(self, message: str) -> None:
        self.first_step = self.first_step or message
        self.last_step = message
        self._keep(f"[{time.monotonic() - self._start:6.1f}s] {message}")
        if self._folding():
            self.print(self.folds.end(), self.folds.start(message))
        self.inner.step(message)

    def info(self, message: str) -> None:
        self._keep(message)
        self.inner.info(message)

    def warn(self, message: str) -> None:
        self._keep(f"warning: {message}")
        self.inner.warn(message)

    def debug(self, message: str) -> None:
        self._keep(message)
        self.inner.debug(message)

    def output(self, line: str) -> None:
        self._keep("  " + line)
        self.inner.output(line)

    def finish(self, error: BaseException | None, failed: bool) -> None:
        """Close the open group (streamed) or print the job's (buffered), then, for a failed
        build, the error naming the build and the step it failed at."""
        # A command that runs several builds names each (``hwb matrix``: the job's id).
        label = getattr(self.inner, "label", None)
        name = f"job {label}" if label else _build_name(self.first_step)
        lines: list[str | None] = []
        if self.buffered:
            state = "failed" if failed else ("stopped" if error is not None else "built")
            lines.append(
                self.folds.start(f"{name}: {state} ({time.monotonic() - self._start:.1f}s)")
            )
            if self.dropped:
                lines.append(f"[... {self.dropped} earlier lines are in the build's log]")
            lines += self.lines
        lines.append(self.folds.end())
        if failed and error is not None:
            message = _message(error)
            step = f' at step "{self.last_step}"' if self.last_step else ""
            lines.append(self.folds.error(f"hwb: {name} failed{step}", message))
        self.print(*lines)


def _build_name(first_step: str | None) -> str:
    from hwb_plugins.cilog.folds import build_name

    return build_name(first_step)


#: The most lines of an error's details (the backend's last output) an error shows.
DETAIL_LINES = 10


def _message(error: BaseException) -> str:
    """The error in one line, then the last lines of its details (what the failed command
    printed last): an annotation is read on the run's page, away from the log."""
    one_line = getattr(error, "one_line", None)
    if not callable(one_line):
        return f"internal error: {type(error).__name__}: {error}"
    details = str(getattr(error, "details", None) or "").rstrip().splitlines()
    return "\n".join([str(one_line()), *details[-DETAIL_LINES:]])
