"""The build's log: everything ``hwb build`` reports, in full and at every level, in a file of
``logs/`` in hwb's cache directory, readable by its owner alone; the newest :data:`KEEP_LOGS`
are kept. On the ``build_log`` hook; blocked (``-p no:buildlog``), builds keep no log."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hwb import hookimpl

if TYPE_CHECKING:
    from hwb import Project, PythonInfo, Reporter

#: How many build logs hwb's cache keeps (``logs/`` in the cache directory), newest first.
KEEP_LOGS = 50


@hookimpl
def build_log(
    request: Any, project: Project, python: PythonInfo, isolation: str, reporter: Reporter
) -> contextlib.AbstractContextManager[tuple[Path, Reporter]] | None:
    if not request.keep_log or request.rebuild:
        return None
    return _logged(request.source, project, python, isolation, reporter)


@contextlib.contextmanager
def _logged(
    source: Path, project: Project, python: PythonInfo, isolation: str, reporter: Reporter
) -> Iterator[tuple[Path, Reporter]]:
    path, stream = open_log(project, python)
    with stream:
        stream.write(f"hwb build {source}: {python.describe()}, in {isolation}\n")
        yield path, LogReporter(reporter, stream)


def open_log(project: Project, python: PythonInfo) -> tuple[Path, IO[str]]:
    """A new log file for one build in ``logs/`` of hwb's cache directory (the output
    directory holds wheels only); logs beyond the newest :data:`KEEP_LOGS` are removed."""
    from hwb import UsageError
    from hwb.files import open_private, private_dir
    from hwb.paths import cache_dir

    directory = cache_dir() / "logs"
    try:
        private_dir(directory)
        _prune_logs(directory)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = directory / f"build-{project.name}-{python.abi_tag}-{stamp}-{os.getpid()}.log"
        return path, open_private(path)
    except OSError as exc:
        raise UsageError(
            f"cannot write the build log in {directory} ({exc.strerror or exc})",
            hint="set HWB_CACHE_DIR to a writable directory",
        ) from None


def _prune_logs(directory: Path) -> None:
    """Keep the newest logs. Builds running side by side prune too: a log another one removed
    meanwhile is simply gone, never an error."""
    dated: list[tuple[float, Path]] = []
    for path in directory.glob("build-*.log"):
        with contextlib.suppress(OSError):
            dated.append((path.stat().st_mtime, path))
    dated.sort()
    for _, stale in dated[: max(0, len(dated) - KEEP_LOGS + 1)]:
        with contextlib.suppress(OSError):
            stale.unlink()


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

    @property
    def live(self) -> bool:
        return bool(getattr(self.inner, "live", False))
