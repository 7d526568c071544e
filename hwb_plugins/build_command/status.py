"""``hwb build``'s live status line on a terminal: the current step, how long it has run and
the latest line of output, redrawn while the backend works and taken away at the end. The
console reporter draws through it (``ConsoleReporter(status=...)``)."""

from __future__ import annotations

import threading
import time
from typing import Any, TextIO

#: The most of the latest output line kept (the line drawn is cut to the terminal's width).
LATEST_CHARS = 1000


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
                self._latest = line[:LATEST_CHARS]

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
