"""The processes a thread started, and stopping them with everything they started.

On Linux the kernel lists the children of each thread (``/proc/self/task/TID/children``), so
the processes of one build of ``hwb matrix`` are told apart from those of the builds running
beside it. Elsewhere on POSIX (``ps``) a process's children are known, not the thread that
started them: only a build running in the main thread (``hwb build``) is answered there, with
every child of hwb. On Windows nothing is listed.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable

#: Seconds between SIGTERM and SIGKILL for a process that does not end.
KILL_AFTER = 5.0


@dataclasses.dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    start: str
    """When it started (``/proc``'s clock ticks; ``ps``'s start time elsewhere): a pid used
    again by a new process is not the same process."""
    name: str
    zombie: bool = False


def table() -> dict[int, Proc]:
    """Every process of this machine that can be seen, by pid."""
    if sys.platform.startswith("linux"):
        found: dict[int, Proc] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                proc = _linux_proc(int(entry))
                if proc is not None:
                    found[proc.pid] = proc
        return found
    if os.name != "posix":
        return {}
    try:
        out = subprocess.run(
            ["ps", "-A", "-o", "pid=,ppid=,stat=,lstart=,comm="],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    found = {}
    for line in out.splitlines():
        fields = line.split(None, 8)
        if len(fields) == 9 and fields[0].isdigit() and fields[1].isdigit():
            pid, ppid, stat = int(fields[0]), int(fields[1]), fields[2]
            name = os.path.basename(fields[8])
            found[pid] = Proc(pid, ppid, " ".join(fields[3:8]), name, stat.startswith("Z"))
    return found


def _linux_proc(pid: int) -> Proc | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as stream:
            text = stream.read()
    except OSError:
        return None
    name, _, rest = text.partition(" (")[2].rpartition(") ")
    fields = rest.split()
    if len(fields) < 20:
        return None
    return Proc(pid, int(fields[1]), fields[19], name, fields[0] in ("Z", "X"))


def started_by(tid: int, main: bool) -> list[Proc]:
    """The processes the thread ``tid`` (a native id) started that still run: on Linux as the
    kernel lists them; elsewhere (or on a kernel that lists no thread's children) every child
    of this process, for the main thread only."""
    try:
        with open(f"/proc/self/task/{tid}/children", encoding="ascii") as stream:
            pids = [int(pid) for pid in stream.read().split()]
        found = [_linux_proc(pid) for pid in pids]
        return [proc for proc in found if proc is not None and not proc.zombie]
    except OSError:
        if not main:
            return []
        me = os.getpid()
        return [proc for proc in table().values() if proc.ppid == me and not proc.zombie]


def tree(roots: Iterable[Proc], procs: dict[int, Proc]) -> dict[int, Proc]:
    """``roots`` and every process below them."""
    below: dict[int, list[Proc]] = {}
    for proc in procs.values():
        below.setdefault(proc.ppid, []).append(proc)
    found: dict[int, Proc] = {}
    todo = [procs[r.pid] for r in roots if r.pid in procs and procs[r.pid].start == r.start]
    while todo:
        proc = todo.pop()
        if proc.pid not in found and proc.pid != os.getpid():
            found[proc.pid] = proc
            todo.extend(below.get(proc.pid, ()))
    return found


def stop(roots: list[Proc]) -> None:
    """SIGTERM to ``roots`` and all below them; SIGKILL after :data:`KILL_AFTER` seconds to
    those still running, and to what they started meanwhile. Never a process that merely took
    a stopped one's pid."""
    victims = tree(roots, table())
    _send(victims.values(), signal.SIGTERM)
    limit = time.monotonic() + KILL_AFTER
    while time.monotonic() < limit:
        if not _alive(victims):
            return
        time.sleep(0.1)
    now = table()
    _send(tree(_alive(victims, now), now).values(), getattr(signal, "SIGKILL", signal.SIGTERM))


def _alive(victims: dict[int, Proc], procs: dict[int, Proc] | None = None) -> list[Proc]:
    if procs is None:
        procs = table() if not sys.platform.startswith("linux") else None
    alive = []
    for pid, was in victims.items():
        now = procs.get(pid) if procs is not None else _linux_proc(pid)
        if now is not None and now.start == was.start and not now.zombie:
            alive.append(now)
    return alive


def _send(procs: Iterable[Proc], signum: int) -> None:
    for proc in procs:
        try:
            os.kill(proc.pid, signum)
        except OSError:
            pass  # gone already, or not ours to signal
