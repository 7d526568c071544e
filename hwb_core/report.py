"""Progress and messages for people, always on stderr (stdout is kept for ``--json``)."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import IO, Any, TextIO

#: The most of one line of a command's output shown on the console.
DISPLAY_CHARS = 1000


def use_color(stream: TextIO) -> bool:
    """Colour on a terminal; ``NO_COLOR`` (any value) turns it off, ``FORCE_COLOR`` on
    (https://no-color.org, https://force-color.org; ``NO_COLOR`` wins)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


class ConsoleReporter:
    """Levels: ``-q`` (-1) errors only, 0 steps, 1 (``-v``) backend output streamed,
    2 (``-vv``) commands and decisions, 3 (``-vvv``) tracebacks too."""

    def __init__(self, verbosity: int = 0, stream: TextIO | None = None, prefix: str = "") -> None:
        self.verbosity = verbosity
        self.stream = stream or sys.stderr
        self.prefix = prefix
        self._start = time.monotonic()
        self._color = use_color(self.stream)

    def _write(self, text: str, style: str | None = None) -> None:
        if self._color and style:
            text = f"\033[{style}m{text}\033[0m"
        print(self.prefix + text, file=self.stream, flush=True)

    def step(self, message: str) -> None:
        if self.verbosity >= 0:
            elapsed = time.monotonic() - self._start
            self._write(f"[{elapsed:5.1f}s] {message}", "1")

    def info(self, message: str) -> None:
        if self.verbosity >= 0:
            self._write(message)

    def warn(self, message: str) -> None:
        self._write(f"warning: {message}", "33")

    def debug(self, message: str) -> None:
        if self.verbosity >= 2:
            self._write(message, "2")

    def output(self, line: str) -> None:
        if self.verbosity >= 1:
            if len(line) > DISPLAY_CHARS:  # the whole line is in the build's log file
                line = f"{line[:DISPLAY_CHARS]} [... {len(line) - DISPLAY_CHARS} more characters]"
            self._write("  " + line, "2")

    def error(self, message: str) -> None:
        self._write(f"error: {message}", "31")


class NullReporter(ConsoleReporter):
    def __init__(self) -> None:
        super().__init__(verbosity=-1)

    def warn(self, message: str) -> None:
        pass


class LogReporter:
    """Everything a build reports, in full and at every level, written to ``stream`` (the
    build's log file) and passed on to ``inner``, which shows what its verbosity asks for."""

    def __init__(self, inner: Any, stream: IO[str]) -> None:
        self.inner = inner
        self.stream = stream
        self.verbosity = max(2, inner.verbosity)  # plugins report commands: the log keeps all
        self._start = time.monotonic()
        self._lock = threading.Lock()  # a heartbeat reports from a thread of its own

    def _log(self, text: str) -> None:
        with self._lock:
            try:
                self.stream.write(text + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass  # a full disk must not fail the build

    def step(self, message: str) -> None:
        self._log(f"[{time.monotonic() - self._start:6.1f}s] {message}")
        self.inner.step(message)

    def info(self, message: str) -> None:
        self._log(message)
        self.inner.info(message)

    def warn(self, message: str) -> None:
        self._log(f"warning: {message}")
        self.inner.warn(message)

    def debug(self, message: str) -> None:
        self._log(message)
        self.inner.debug(message)

    def output(self, line: str) -> None:
        self._log("  " + line)
        self.inner.output(line)
