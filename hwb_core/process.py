"""Running commands: output streamed at ``-v``, its tail kept for error messages, and the child
stopped (not orphaned) when hwb is interrupted."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from hwb_core.errors import BuildError
from hwb_core.interfaces import Reporter, RunResult

TAIL_LINES = 40


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
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    try:
        proc = subprocess.Popen(
            [str(c) for c in cmd],
            cwd=str(cwd) if cwd else None,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            # Its own process group, so that stopping it reaches what it started too (uv's
            # build backends, compilers), also when a signal reached hwb alone.
            start_new_session=_OWN_GROUP,
        )
    except FileNotFoundError:
        raise BuildError(f"{cmd[0]} was not found", hint=hint) from None
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            reporter.output(line)
        returncode = proc.wait()
    except BaseException:
        _stop(proc)
        raise
    output = "\n".join(tail)
    if check and returncode != 0:
        label = what or os.path.basename(str(cmd[0]))
        raise BuildError(f"{label} failed (exit code {returncode})", hint=hint, details=output)
    return RunResult(returncode, output)


def _stop(proc: subprocess.Popen[str]) -> None:
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
