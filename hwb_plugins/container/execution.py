"""Running one command in the build container (``exec``), its output streamed to the reporter,
and the failures it can end in told apart: not found, out of memory, out of disk."""

from __future__ import annotations

import codecs
import collections
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from hwb import BuildError, Reporter, RunResult, deadline
from hwb.process import Heartbeat
from hwb_plugins.container.errors import (
    ContainerError,
    MemoryLimitExceeded,
    NoSpaceLeft,
    engine_message,
    is_no_space,
)
from hwb_plugins.container.settings import ContainerSettings

if TYPE_CHECKING:
    import docker

TAIL_LINES = 40
#: The most of one line the error tail keeps, and the largest piece of output held at once.
TAIL_LINE_CHARS = 1000
CHUNK = 65536


def exec_in(
    client: docker.DockerClient,
    container_id: str,
    argv: Sequence[str],
    *,
    reporter: Reporter,
    cwd: str,
    environment: Mapping[str, str],
    settings: ContainerSettings,
    check: bool = True,
    what: str | None = None,
    stop: Callable[[], None] | None = None,
) -> RunResult:
    """``exec``: output streamed to the reporter line by line, its tail kept for errors. At the
    build's time limit the container is stopped, or ``stop`` is called when given (a kept
    container, where only this build's processes may be stopped)."""
    from docker.errors import APIError, NotFound

    engine = settings.engine
    reporter.debug("$ (container) " + " ".join(argv))
    api = client.api
    try:
        exec_id = api.exec_create(
            container_id,
            list(argv),
            environment=dict(environment),
            workdir=cwd,
            stdout=True,
            stderr=True,
        )["Id"]
        stream = api.exec_start(exec_id, stream=True)
    except NotFound:
        raise ContainerError(
            "the build container disappeared (removed from outside hwb?)"
        ) from None
    except APIError as exc:
        message = engine_message(exc)
        if "is not running" in message:
            raise ContainerError(
                "the build container stopped unexpectedly",
                hint=f"`{engine.name} events` or the engine's log may say why (out of memory, killed)",
            ) from None
        raise ContainerError(
            f"the {engine.display} engine could not run a command in the container: {message}"
        ) from None
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    watchdog = _watchdog(client, container_id, stop)
    heartbeat = Heartbeat(reporter, what or os.path.basename(str(argv[0])))
    try:
        for chunk in stream:
            pending += decoder.decode(chunk)
            *lines, pending = pending.split("\n")
            if len(pending) > CHUNK:  # one enormous line: reported in pieces, memory bounded
                lines.append(pending)
                pending = ""
            for line in lines:
                line = line.rstrip("\r")
                tail.append(line if len(line) <= TAIL_LINE_CHARS else _shorten(line))
                reporter.output(line)
    finally:
        heartbeat.cancel()
        if watchdog is not None:
            watchdog.cancel()
    if watchdog is not None and watchdog.is_set():
        raise deadline.expired(what or os.path.basename(str(argv[0])))
    pending += decoder.decode(b"", final=True)
    if pending:
        tail.append(pending)
        reporter.output(pending)
    returncode = api.exec_inspect(exec_id).get("ExitCode")
    returncode = -1 if returncode is None else int(returncode)
    output = "\n".join(tail)
    if check and returncode != 0:
        label = what or os.path.basename(str(argv[0]))
        if returncode in (126, 127) and (
            "executable file not found" in output or "no such file" in output.lower()
        ):
            raise BuildError(f"{argv[0]} was not found in the build container", details=output)
        if returncode == 137 and settings.memory is not None:
            if _oom_kills(client, container_id) > 0:
                raise MemoryLimitExceeded(
                    f"{label} was killed: the build container ran out of memory (limit {settings.memory_text})",
                    hint=f"raise memory in {engine.table} (or --memory), or build with fewer parallel jobs",
                    details=output,
                )
        if is_no_space(output):
            raise NoSpaceLeft(
                f"{label} failed: no space left on device", hint=engine.prune_hint, details=output
            )
        raise BuildError(
            f"{label} failed in the build container (exit code {returncode})", details=output
        )
    return RunResult(returncode, output)


class _Watchdog(threading.Timer):
    """Stops the build container at the build's time limit (its processes with it)."""

    def __init__(
        self,
        client: docker.DockerClient,
        container_id: str,
        seconds: float,
        stop: Callable[[], None] | None,
    ) -> None:
        super().__init__(seconds, self._fire, args=(client, container_id, stop))
        self.daemon = True
        self._fired = threading.Event()

    def _fire(
        self, client: docker.DockerClient, container_id: str, stop: Callable[[], None] | None
    ) -> None:
        self._fired.set()
        try:
            if stop is not None:
                stop()
            else:
                client.api.kill(container_id)
        except Exception:
            pass  # gone already; the stream ends either way

    def is_set(self) -> bool:
        return self._fired.is_set()


def _watchdog(
    client: docker.DockerClient, container_id: str, stop: Callable[[], None] | None
) -> _Watchdog | None:
    left = deadline.remaining()
    if left is None:
        return None
    timer = _Watchdog(client, container_id, left, stop)
    timer.start()
    return timer


def _shorten(line: str) -> str:
    return f"{line[:TAIL_LINE_CHARS]} [... {len(line) - TAIL_LINE_CHARS} more characters]"


def _oom_kills(client: docker.DockerClient, container_id: str) -> int:
    """How many processes the container's memory cgroup has killed (cgroup v1 or v2)."""
    script = (
        "cat /sys/fs/cgroup/memory.events 2>/dev/null || "
        "cat /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null; true"
    )
    try:
        exec_id = client.api.exec_create(container_id, ["sh", "-c", script])["Id"]
        text = client.api.exec_start(exec_id).decode("utf-8", "replace")
    except Exception:
        return 0
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == "oom_kill" and value.strip().isdigit():
            return int(value)
    return 0
