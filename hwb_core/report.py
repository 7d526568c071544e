"""Progress and messages for people, always on stderr (stdout is kept for ``--json``)."""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

#: The most of one line of a command's output shown on the console.
DISPLAY_CHARS = 1000


def use_color(stream: TextIO) -> bool:
    """Colour and bold on a terminal; ``NO_COLOR`` (any value) turns them off, ``FORCE_COLOR``
    on (https://no-color.org, https://force-color.org; ``NO_COLOR`` wins), and a terminal
    that says it understands no escapes (``TERM=dumb``) gets none unless forced."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return os.environ.get("TERM") != "dumb" and stream.isatty()


class ConsoleReporter:
    """Levels: ``-q`` (-1) errors only, 0 steps, 1 (``-v``) backend output streamed,
    2 (``-vv``) commands and decisions, 3 (``-vvv``) tracebacks too.

    With a ``status`` line (``hwb build``'s on a terminal: an object
    with ``step(message)``, ``output(line)``, ``print(text)`` and ``stop()``) the steps and
    output lines go to it as well, the messages are printed through it (above it), and
    :meth:`close` takes it away."""

    def __init__(
        self,
        verbosity: int = 0,
        stream: TextIO | None = None,
        status: Any = None,
    ) -> None:
        self.verbosity = verbosity
        self.stream = stream or sys.stderr
        self._start = time.monotonic()
        self._color = use_color(self.stream)
        self._status = status if verbosity >= 0 else None

    @property
    def live(self) -> bool:
        """Whether a live status line shows how long the current step runs (heartbeat lines
        are then left out)."""
        return self._status is not None

    def _write(self, text: str, style: str | None = None) -> None:
        if self._color and style:
            text = f"\033[{style}m{text}\033[0m"
        if self._status is not None:
            self._status.print(text)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        """Take the status line away (before an error is printed, and at the end)."""
        if self._status is not None:
            self._status.stop()
            self._status = None

    def step(self, message: str) -> None:
        if self.verbosity >= 0:
            elapsed = time.monotonic() - self._start
            self._write(f"[{elapsed:5.1f}s] {message}", "1")
            if self._status is not None:
                self._status.step(message)

    def info(self, message: str) -> None:
        if self.verbosity >= 0:
            self._write(message)

    def warn(self, message: str) -> None:
        self._write(f"warning: {message}", "33")

    def debug(self, message: str) -> None:
        if self.verbosity >= 2:
            self._write(message, "2")

    def output(self, line: str) -> None:
        if self._status is not None:
            self._status.output(line)
        if self.verbosity >= 1:
            if len(line) > DISPLAY_CHARS:  # the whole line is in the build's log file
                line = f"{line[:DISPLAY_CHARS]} [... {len(line) - DISPLAY_CHARS} more characters]"
            self._write("  " + line, "2")
