"""Progress and messages for people, always on stderr (stdout is kept for ``--json``)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ConsoleReporter:
    """Levels: ``-q`` (-1) errors only, 0 steps, 1 (``-v``) backend output streamed,
    2 (``-vv``) commands and decisions, 3 (``-vvv``) tracebacks too."""

    def __init__(self, verbosity: int = 0, stream: TextIO | None = None, prefix: str = "") -> None:
        self.verbosity = verbosity
        self.stream = stream or sys.stderr
        self.prefix = prefix
        self._start = time.monotonic()
        self._color = self.stream.isatty()

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
            self._write("  " + line, "2")

    def error(self, message: str) -> None:
        self._write(f"error: {message}", "31")


class NullReporter(ConsoleReporter):
    def __init__(self) -> None:
        super().__init__(verbosity=-1)

    def warn(self, message: str) -> None:
        pass
