"""Showing a matrix run on stderr: a live table on a terminal, one line per change otherwise,
then a summary. Nothing here writes to stdout (``--json`` owns it)."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from hwb import live_wanted
from hwb_plugins.matrix.jobs import FAILED, OK, RUNNING, SKIPPED, WAITING, Job, MatrixResult, Plan

if TYPE_CHECKING:
    from rich.console import Console

_STYLE = {WAITING: "dim", RUNNING: "yellow", OK: "green", FAILED: "bold red", SKIPPED: "magenta"}


def _detail(job: Job) -> str:
    if job.status == RUNNING:
        return job.step
    if job.status == OK and job.wheel is not None:
        return job.wheel.name
    return job.error or ""


def _clock(job: Job) -> str:
    return f"{job.duration_s:5.1f}s" if job.started is not None else ""


def _headline(plan: Plan) -> str:
    runnable = len(plan.runnable)
    decided = len(plan.jobs) - runnable
    text = f"matrix: {len(plan.jobs)} job{'s' if len(plan.jobs) != 1 else ''}, {runnable} to run"
    if decided:
        text += f", {decided} decided already"
    if plan.excluded:
        text += f", {plan.excluded} excluded"
    workers = min(plan.parallel, max(runnable, 1))
    return text + f"; {workers} at a time; logs in {plan.log_dir}"


class PlainView:
    """One line per job change, for logs and pipes (CI)."""

    def __init__(self, stream: TextIO, verbosity: int = 0) -> None:
        self.stream = stream
        self.verbosity = verbosity
        self._lock = threading.Lock()
        self._start = time.monotonic()

    def _print(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)

    def start(self, plan: Plan) -> None:
        self._start = time.monotonic()
        if self.verbosity >= 0:
            self._print(_headline(plan))
        for job in plan.jobs:
            if job.status != WAITING:
                self.changed(job)

    def changed(self, job: Job) -> None:
        if self.verbosity < 0 and job.status != FAILED:
            return
        if job.status == WAITING:
            return
        words = {RUNNING: "started", OK: "ok", FAILED: "FAILED", SKIPPED: "skipped"}[job.status]
        line = f"[{time.monotonic() - self._start:6.1f}s] {job.id}: {words}"
        detail = "" if job.status == RUNNING else _detail(job)
        if detail:
            line += f", {detail}"
        if job.status in (OK, FAILED):
            line += f" ({job.duration_s:.1f}s)"
            if job.test_word:
                line += f", test {job.test_word}"
        self._print(line)

    def message(self, job: Job, kind: str, text: str) -> None:
        if kind == "warning":
            self._print(f"warning: [{job.id}] {text}")
        elif self.verbosity >= 1:
            self._print(f"[{job.id}] " + ("  " if kind == "output" else "") + text)

    def stop(self) -> None:
        pass


class LiveView:
    """A table of every job, redrawn four times a second, for a person at a terminal."""

    def __init__(self, console: Console, verbosity: int = 0) -> None:
        self.console = console
        self.verbosity = verbosity
        self._plan: Plan | None = None
        self._live: Any = None

    def start(self, plan: Plan) -> None:
        from rich.live import Live

        self._plan = plan
        self.console.print(_headline(plan), highlight=False, markup=False)
        self._live = Live(
            get_renderable=self._render,
            console=self.console,
            refresh_per_second=4,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
            vertical_overflow="ellipsis",
        )
        self._live.start()

    def _render(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        jobs = self._plan.jobs if self._plan else []
        id_width = max((len(j.id) for j in jobs), default=3)
        # The detail column gives way when space is short (rich would squeeze the others).
        room = max(10, self.console.width - id_width - 7 - 6 - 7 - 4 * 2 - 1)
        table = Table(box=None, pad_edge=False, show_edge=False)
        table.add_column("job", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
        table.add_column("test", no_wrap=True)
        table.add_column("", no_wrap=True)
        for job in jobs:
            detail = Text(_detail(job))
            detail.truncate(room, overflow="ellipsis")
            test = Text(job.test_word, style="red" if job.test_word == "failed" else "")
            status = Text(job.status, style=_STYLE[job.status])
            table.add_row(job.id, status, _clock(job), test, detail)
        return table

    def changed(self, job: Job) -> None:
        pass  # the table is redrawn from the jobs themselves

    def message(self, job: Job, kind: str, text: str) -> None:
        if kind == "warning":
            self.console.print(
                f"warning: [{job.id}] {text}", style="yellow", highlight=False, markup=False
            )
        elif self.verbosity >= 1:
            prefix = f"[{job.id}] " + ("  " if kind == "output" else "")
            self.console.print(
                prefix + text,
                highlight=False,
                markup=False,
                style="dim" if kind == "output" else None,
            )

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def make_view(stream: TextIO, verbosity: int) -> PlainView | LiveView:
    """The live table when ``stream`` is a terminal (and not ``-q``), plain lines otherwise."""
    if verbosity >= 0 and live_wanted(stream):  # not for NO_COLOR: a redrawn table is escapes
        from rich.console import Console

        console = Console(file=stream)
        if console.is_terminal and not console.is_dumb_terminal:
            return LiveView(console, verbosity)
    return PlainView(stream, verbosity)


def print_summary(result: MatrixResult, stream: TextIO, verbosity: int = 0) -> None:
    """What did not go well (with each log), then the counts."""
    for job in result.jobs:
        if job.status == FAILED:
            print(f"  failed  {job.id}: {job.error} (log: {job.log})", file=stream)
    if verbosity < 0:
        return
    skipped: dict[str, list[str]] = {}
    for job in result.jobs:
        if job.status == SKIPPED:
            skipped.setdefault(job.error or "", []).append(job.id)
    for reason, ids in skipped.items():  # grouped: the same reason often skips many jobs
        print(f"  skipped {', '.join(ids)}: {reason}", file=stream)
    made: dict[str, list[str]] = {}
    for job in result.jobs:
        if job.status == OK and job.wheel is not None:
            made.setdefault(job.wheel.name, []).append(job.id)
    for name, ids in made.items():  # an abi3 wheel, for one, has the same name for every job
        if len(ids) > 1:
            print(
                f"  note: {', '.join(ids)} all made {name}; the last one written is kept",
                file=stream,
            )
    counts = ", ".join(f"{result.count(s)} {s}" for s in (OK, FAILED, SKIPPED) if result.count(s))
    state = " (interrupted)" if result.interrupted else ""
    print(
        f"matrix: {counts or 'nothing run'} in {result.duration_s:.1f}s{state}; "
        f"wheels in {result.plan.outdir}",
        file=stream,
        flush=True,
    )
