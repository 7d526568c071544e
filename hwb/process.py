"""Running commands: output streamed at ``-v``, its tail kept for error messages, and the child
stopped (not orphaned) when hwb is interrupted.

Output is read in pieces of at most :data:`CHUNK` characters, so a command that prints one
enormous line costs no more memory than a normal one: such a line reaches the reporter (and the
build's log file) as consecutive pieces, and the error tail keeps the start of each line only
(:data:`TAIL_LINE_CHARS`)."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from hwb_core import deadline
from hwb_core.errors import BuildError
from hwb_core.interfaces import Reporter, RunResult

TAIL_LINES = 40
#: The most of one line the error tail keeps; the rest is counted, and is in the log file.
TAIL_LINE_CHARS = 1000
#: The largest piece of output read (and reported) at once.
CHUNK = 65536
#: Seconds between "still running" lines while a command runs (so that a CI log shows that a
#: long compile is alive); 0 for none.
HEARTBEAT_SECONDS = 30.0


def run(
    cmd: Sequence[str],
    *,
    reporter: Reporter,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    what: str | None = None,
    hint: str | None = None,
) -> RunResult:
    """Run ``cmd``; its combined output goes to ``reporter.output`` line by line."""
    reporter.debug("$ " + " ".join(str(c) for c in cmd))
    try:
        proc = spawn(cmd, cwd=cwd, env=env)
    except FileNotFoundError:
        raise BuildError(f"{cmd[0]} was not found", hint=hint) from None
    return follow(proc, cmd, reporter=reporter, check=check, what=what, hint=hint)


def spawn(
    cmd: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: int = subprocess.DEVNULL,
) -> subprocess.Popen[str]:
    """Start ``cmd`` with its output (stdout and stderr together) on a pipe for :func:`follow`."""
    return subprocess.Popen(
        [str(c) for c in cmd],
        cwd=str(cwd) if cwd else None,
        env=dict(env) if env is not None else None,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        # Its own process group, so that stopping it reaches what it started too (uv's
        # build backends, compilers), also when a signal reached hwb alone.
        start_new_session=_OWN_GROUP,
    )


def follow(
    proc: subprocess.Popen[str],
    cmd: Sequence[str],
    *,
    reporter: Reporter,
    check: bool = True,
    what: str | None = None,
    hint: str | None = None,
) -> RunResult:
    """Read a started command's output to its end (see :func:`run`), stopping it on Ctrl-C,
    an error or the build's time limit."""
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    watchdog = _watchdog(proc)
    heartbeat = Heartbeat(reporter, what or os.path.basename(str(cmd[0])))
    try:
        assert proc.stdout is not None
        continued = 0  # characters of the current line already read
        while True:
            piece = proc.stdout.readline(CHUNK)
            if not piece:
                break
            text = piece.rstrip("\n")
            reporter.output(text)
            if continued:
                tail[-1] = _shorten(tail[-1], continued + len(text))
            else:
                tail.append(text if len(text) <= TAIL_LINE_CHARS else _shorten(text, len(text)))
            continued = 0 if piece.endswith("\n") else continued + len(text)
        returncode = proc.wait()
    except BaseException:
        stop(proc)
        raise
    finally:
        heartbeat.cancel()
        if watchdog is not None:
            watchdog.cancel()
        if proc.stdout is not None:
            proc.stdout.close()
    if watchdog is not None and watchdog.fired:
        raise deadline.expired(what or os.path.basename(str(cmd[0])))
    output = "\n".join(tail)
    if check and returncode != 0:
        label = what or os.path.basename(str(cmd[0]))
        raise BuildError(f"{label} failed (exit code {returncode})", hint=hint, details=output)
    return RunResult(returncode, output)


class Heartbeat:
    """Says every :data:`HEARTBEAT_SECONDS` that a command still runs, from a thread of its
    own, until :meth:`cancel` (environments that run commands their own way use it too)."""

    def __init__(self, reporter: Reporter, label: str) -> None:
        self._reporter = reporter
        self._label = label
        self._started = time.monotonic()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        if HEARTBEAT_SECONDS > 0:
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()

    def _beat(self) -> None:
        while not self._stopped.wait(HEARTBEAT_SECONDS):
            if getattr(self._reporter, "live", False):
                continue  # a live status line on the terminal shows the time already
            elapsed = time.monotonic() - self._started
            try:
                self._reporter.info(f"still running: {self._label} ({elapsed:.0f} s)")
            except Exception:
                return  # a reporter that refuses (a stopping hwb matrix job) ends the beat

    def cancel(self) -> None:
        self._stopped.set()


class _Watchdog:
    """Stops a child at the build's time limit, from a timer thread."""

    def __init__(self, proc: subprocess.Popen[str], seconds: float) -> None:
        self.fired = False
        self._proc = proc
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        stop(self._proc)

    def cancel(self) -> None:
        self._timer.cancel()


def _watchdog(proc: subprocess.Popen[str]) -> _Watchdog | None:
    left = deadline.remaining()
    return None if left is None else _Watchdog(proc, left)


def _shorten(kept: str, length: int) -> str:
    """The tail's copy of a line of ``length`` characters that did not fit in one piece."""
    head = kept.split(" [... ", 1)[0][:TAIL_LINE_CHARS]
    return f"{head} [... {length - len(head)} more characters]"


def stop(proc: subprocess.Popen[str]) -> None:
    """Stop a child on Ctrl-C or error, waiting for it so its files can be removed after."""
    if proc.poll() is not None:
        return
    try:
        _signal(proc, signal.SIGINT)
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        _signal(proc, signal.SIGKILL if _OWN_GROUP else signal.SIGTERM)
        proc.wait()
    except ProcessLookupError:
        pass


_OWN_GROUP = os.name == "posix"


def _signal(proc: subprocess.Popen[str], signum: int) -> None:
    if _OWN_GROUP:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
