"""Reaching podman's Docker-compatible API, starting a service for the build when none runs.

In order:

1. ``CONTAINER_HOST`` (podman's own variable for a remote service, ``unix://PATH``) when set:
   that service, and no other;
2. the service podman's systemd units provide, when its socket answers: rootful
   ``/run/podman/podman.sock`` (as root), rootless ``$XDG_RUNTIME_DIR/podman/podman.sock``;
3. otherwise ``podman system service --time=0 unix://<private temporary directory>/podman.sock``
   started for this build alone, in its own session (a Ctrl-C reaches hwb, which removes the
   container first, and only then stops the service), and stopped with its directory when the
   build ends however it ends. Should hwb itself be killed outright, the kernel stops the service
   too (``PR_SET_PDEATHSIG``).

The availability check starts nothing: it pings the sockets above, else asks ``podman info``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from hwb import Reporter
from hwb.container import Endpoint, EngineUnavailable, open_client, ping, sdk, session

if TYPE_CHECKING:
    import docker

DISPLAY = "Podman"
ROOTFUL_SOCKET = "/run/podman/podman.sock"
INSTALL_HINT = (
    "install podman (`sudo apt-get install podman`, `sudo dnf install podman`), or set "
    "CONTAINER_HOST to the socket of a running podman service (unix:///run/podman/podman.sock)"
)
START_HINT = (
    "start the service (`systemctl start podman.socket`, or `systemctl --user start "
    "podman.socket` rootless), or unset CONTAINER_HOST to let hwb start one for the build"
)
PERMISSION_HINT = (
    "use the service of your own user (rootless: `systemctl --user start podman.socket`), or "
    "unset CONTAINER_HOST to let hwb start one for the build"
)
#: Seconds a started service has to answer.
START_TIMEOUT = 30.0
#: Longest path a unix socket may have (108 bytes with the terminating NUL on Linux).
_SOCKET_PATH_MAX = 100


def _podman_environment() -> dict[str, str]:
    """The environment for the podman command: an empty ``CONTAINER_HOST`` (set but blank, as
    ``CONTAINER_HOST=`` leaves it) would make it fail to "connect" to nothing."""
    environ = dict(os.environ)
    if not environ.get("CONTAINER_HOST", "").strip():
        environ.pop("CONTAINER_HOST", None)
    return environ


def _endpoint(url: str) -> Endpoint:
    return Endpoint(DISPLAY, url, url, START_HINT, PERMISSION_HINT)


def configured() -> Endpoint | None:
    """The service ``CONTAINER_HOST`` names, if it is set."""
    url = os.environ.get("CONTAINER_HOST", "").strip()
    return _endpoint(url) if url else None


def standard_sockets() -> list[Endpoint]:
    """The sockets of podman's systemd units that exist on this machine, this user's first."""
    paths = []
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        paths.append(ROOTFUL_SOCKET)
    else:
        runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
        if runtime_dir:
            paths.append(os.path.join(runtime_dir, "podman", "podman.sock"))
    return [_endpoint(f"unix://{path}") for path in paths if os.path.exists(path)]


def problem() -> str | None:
    """``None`` when podman can be used here, else why not and the fix, on one line.

    Starts nothing: a socket that answers, else ``podman info`` (a fraction of a second)."""
    try:
        sdk()
    except EngineUnavailable as exc:
        return exc.one_line()
    explicit = configured()
    if explicit is not None:
        return ping(explicit)
    if any(ping(endpoint) is None for endpoint in standard_sockets()):
        return None
    podman = shutil.which("podman")
    if podman is None:
        return f"cannot use Podman: no podman command on PATH ({INSTALL_HINT})"
    try:
        result = subprocess.run(
            [podman, "info", "--format", "{{.Host.OCIRuntime.Name}}"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            env=_podman_environment(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot use Podman: `podman info` failed ({exc})"
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit code {result.returncode}"
        return (
            f"cannot use Podman: `podman info` failed: {reason[:200]} (run `podman info` to see "
            "why; /etc/containers/containers.conf sets the runtime and cgroup manager)"
        )
    return None


@contextlib.contextmanager
def connect(reporter: Reporter) -> Iterator[docker.DockerClient]:
    """A client for one build: the configured or a running service, else a private one."""
    explicit = configured()
    if explicit is not None:
        with session(explicit) as client:
            yield client
        return
    for endpoint in standard_sockets():
        if ping(endpoint) is None:
            reporter.debug(f"using the podman service at {endpoint.where}")
            with session(endpoint) as client:
                yield client
            return
    with private_service(reporter) as client:
        yield client


@contextlib.contextmanager
def private_service(reporter: Reporter) -> Iterator[docker.DockerClient]:
    """``podman system service`` on a socket in a private directory, for one build."""
    podman = shutil.which("podman")
    if podman is None:
        raise EngineUnavailable("cannot use Podman: no podman command on PATH", hint=INSTALL_HINT)
    directory = Path(tempfile.mkdtemp(prefix="hwb-podman-", dir=_socket_parent()))
    try:
        socket_path = directory / "podman.sock"
        log_path = directory / "service.log"
        url = f"unix://{socket_path}"
        reporter.step(f"starting a podman service for this build ({url})")
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [podman, "system", "service", "--time=0", url],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_podman_environment(),
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        try:
            client = _wait_for_service(process, socket_path, log_path)
            try:
                yield client
            finally:
                client.close()
        finally:
            _stop(process)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _socket_parent() -> str | None:
    """Where the private directory goes: the temporary directory, unless its path is too long
    for a unix socket (deep TMPDIRs are)."""
    base = tempfile.gettempdir()
    if len(base) + len("/hwb-podman-XXXXXXXX/podman.sock") <= _SOCKET_PATH_MAX:
        return None
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    if runtime_dir and len(runtime_dir) < _SOCKET_PATH_MAX - 40 and os.path.isdir(runtime_dir):
        return runtime_dir
    return "/tmp"


def _wait_for_service(
    process: subprocess.Popen[bytes], socket_path: Path, log_path: Path
) -> docker.DockerClient:
    deadline = time.monotonic() + START_TIMEOUT
    endpoint = _endpoint(f"unix://{socket_path}")
    while True:
        if process.poll() is not None:
            raise EngineUnavailable(
                f"cannot use Podman: `podman system service` exited with code "
                f"{process.returncode}: {_tail(log_path)}",
                hint="run `podman info` to see what podman lacks here",
            )
        if socket_path.exists():
            try:
                return open_client(endpoint)
            except EngineUnavailable:
                pass
        if time.monotonic() > deadline:
            raise EngineUnavailable(
                f"cannot use Podman: the service hwb started did not answer within "
                f"{START_TIMEOUT:.0f} s: {_tail(log_path)}",
                hint="run `podman info` to see what podman lacks here",
            )
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s; a second Ctrl-C meanwhile does not leave it running."""
    for attempt in range(2):
        try:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            return
        except KeyboardInterrupt:
            if attempt:
                process.kill()
                raise


def _die_with_parent() -> None:
    """In the child, before exec: be sent SIGTERM when hwb dies (Linux)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except Exception:
        pass


def _tail(log_path: Path) -> str:
    try:
        lines = [ln for ln in log_path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no output"
    return lines[-1].strip()[:200] if lines else "no output"
