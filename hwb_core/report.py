"""Progress and messages for people, always on stderr (stdout is kept for ``--json``)."""

from __future__ import annotations

import os
import sys
import threading
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


def live_wanted(stream: TextIO) -> bool:
    """A live status line only where someone watches: a terminal that can redraw a line."""
    # NO_COLOR users ask for plain text: no redrawn line either (cursor movements are escapes).
    if os.environ.get("TERM") == "dumb" or os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ConsoleReporter:
    """Levels: ``-q`` (-1) errors only, 0 steps, 1 (``-v``) backend output streamed,
    2 (``-vv``) commands and decisions, 3 (``-vvv``) tracebacks too.

    With ``live`` (on a terminal, see :func:`live_wanted`) a status line under the messages
    shows the current step, how long it has run and the latest line of output, redrawn four
    times a second until :meth:`close`."""

    def __init__(
        self,
        verbosity: int = 0,
        stream: TextIO | None = None,
        prefix: str = "",
        live: bool = False,
    ) -> None:
        self.verbosity = verbosity
        self.stream = stream or sys.stderr
        self.prefix = prefix
        self._start = time.monotonic()
        self._color = use_color(self.stream)
        self._status: LiveStatus | None = None
        if live and verbosity >= 0:
            self._status = LiveStatus(self.stream, self._color)

    @property
    def live(self) -> bool:
        """Whether a live status line shows how long the current step runs (heartbeat lines
        are then left out)."""
        return self._status is not None

    def _write(self, text: str, style: str | None = None) -> None:
        if self._color and style:
            text = f"\033[{style}m{text}\033[0m"
        if self._status is not None:
            self._status.print(self.prefix + text)
        else:
            print(self.prefix + text, file=self.stream, flush=True)

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

    def error(self, message: str) -> None:
        self.close()
        self._write(f"error: {message}", "31")


class LiveStatus:
    """The status line: rich's ``Live`` on ``stream``, transient (gone when stopped), its text
    computed at each redraw so the elapsed time moves on its own. Lines printed meanwhile go
    above it; stdout is never touched (``--json`` stays clean)."""

    def __init__(self, stream: TextIO, color: bool) -> None:
        from rich.console import Console
        from rich.live import Live

        self._console = Console(
            file=stream, force_terminal=True, no_color=not color, highlight=False, soft_wrap=False
        )
        self._step = ""
        self._since = time.monotonic()
        self._latest = ""
        self._lock = threading.Lock()
        self._live: Any = None
        self._live_type = Live

    def _render(self) -> Any:
        from rich.text import Text

        with self._lock:
            step, since, latest = self._step, self._since, self._latest
        width = max(20, self._console.width - 1)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{_SPINNER[int(time.monotonic() * 8) % len(_SPINNER)]} ", style="cyan")
        text.append(step, style="bold")
        text.append(f" ({time.monotonic() - since:.0f}s)")
        if latest:
            text.append("  " + latest[: width * 2], style="dim")
        text.truncate(width, overflow="ellipsis")
        return text

    def step(self, message: str) -> None:
        with self._lock:
            self._step, self._since, self._latest = message, time.monotonic(), ""
        if self._live is None:
            self._live = self._live_type(
                _Dynamic(self._render),
                console=self._console,
                transient=True,
                refresh_per_second=8,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()

    def output(self, line: str) -> None:
        line = line.strip()
        if line:
            with self._lock:
                self._latest = line[:DISPLAY_CHARS]

    def print(self, text: str) -> None:
        from rich.text import Text

        if self._live is None:
            print(text, file=self._console.file, flush=True)
        else:
            self._console.print(Text.from_ansi(text), soft_wrap=True)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class _Dynamic:
    """A renderable whose content is made afresh at every redraw."""

    def __init__(self, make: Any) -> None:
        self._make = make

    def __rich__(self) -> Any:
        return self._make()


class NullReporter(ConsoleReporter):
    def __init__(self) -> None:
        super().__init__(verbosity=-1)

    def warn(self, message: str) -> None:
        pass
