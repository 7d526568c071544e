"""Which engine a container isolation talks to, and reaching it through the Docker SDK.

Both engines are driven through the Docker Engine API with the Docker SDK for Python: Docker
natively, podman through its Docker-compatible service. An :class:`Engine` says what differs:
its name (and so its ``isolation.<name>.*`` keys), the name people know it by, and how to get a
client for one build (podman may have to start its service first, and stop it afterwards).

The SDK is imported only here and only when an engine is checked or used.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from hwb import Reporter
from hwb_plugins.container.errors import EngineUnavailable, describe_connection_problem

if TYPE_CHECKING:
    import docker

#: Seconds an availability check waits for the engine's answer.
PING_TIMEOUT = 3.0

#: Read timeout of a build's client: a compiler may stay silent for a long time while its
#: output is streamed. Ctrl-C still interrupts a wait.
BUILD_TIMEOUT = 24 * 3600.0


@dataclasses.dataclass(frozen=True)
class Engine:
    """A container engine as the shared container code sees it."""

    name: str
    """``"docker"`` or ``"podman"``: the isolation's name, its keys' table and its command."""
    display: str
    """``"Docker"``, ``"Podman"``: how messages name it."""
    connect: Callable[[Reporter], AbstractContextManager[docker.DockerClient]]
    """A client for one build. Leaving the context closes it and stops whatever was started
    to provide it (a podman service), on failure and Ctrl-C too."""
    check: Callable[[], str | None]
    """``None`` when the engine can be used here, else why not and the fix, on one line.
    Cheap: it starts nothing that outlives it."""
    connect_to: Callable[[Reporter, str], AbstractContextManager[docker.DockerClient]] | None = None
    """A client of the engine at a URL or context name (``host``, ``hosts``), or ``None`` when
    the engine is only ever the environment's."""
    check_host: Callable[[str], str | None] | None = None
    """:attr:`check` for the engine at a URL or context name."""

    @property
    def prefix(self) -> str:
        """``"isolation.docker."``: the keys' prefix."""
        return f"isolation.{self.name}."

    @property
    def table(self) -> str:
        """``"[tool.hwb.isolation.docker]"``, for messages."""
        return f"[tool.hwb.isolation.{self.name}]"

    @property
    def prune_hint(self) -> str:
        return (
            f"free space with `{self.name} system prune -a` (unused images, containers and "
            "build cache)"
        )


def sdk() -> Any:
    """The ``docker`` package, or :class:`EngineUnavailable` saying how to install it."""
    try:
        import docker
    except ImportError:
        raise EngineUnavailable(
            "the docker Python package (the Docker SDK) is not installed",
            hint="install it beside hwb: `pip install docker`",
        ) from None
    return docker


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where an engine's API listens, and what to tell people when it does not answer."""

    display: str
    base_url: str | None
    """``unix:///run/podman/podman.sock``; ``None`` for the environment's (``DOCKER_HOST``)."""
    where: str
    """The address as messages show it."""
    start_hint: str
    permission_hint: str


def open_client(endpoint: Endpoint, timeout: float = BUILD_TIMEOUT) -> docker.DockerClient:
    """A client that has answered a ping, or :class:`EngineUnavailable` with the reason."""
    api = sdk()
    try:
        if endpoint.base_url is None:
            # from_env asks the engine for its API version: this is the ping.
            client = api.from_env(timeout=timeout)
        else:
            client = api.DockerClient(base_url=endpoint.base_url, timeout=timeout)
        client.ping()
    except (api.errors.DockerException, OSError) as exc:  # OSError: socket errors the SDK lets by
        reason, hint = describe_connection_problem(
            exc, endpoint.where, endpoint.display, endpoint.start_hint, endpoint.permission_hint
        )
        raise EngineUnavailable(f"cannot use {endpoint.display}: {reason}", hint=hint) from None
    return client


def ping(endpoint: Endpoint) -> str | None:
    """``None`` when the endpoint answers within :data:`PING_TIMEOUT`, else why not, on one line."""
    try:
        client = open_client(endpoint, timeout=PING_TIMEOUT)
    except EngineUnavailable as exc:
        return exc.one_line()
    client.close()
    return None


@contextlib.contextmanager
def session(endpoint: Endpoint) -> Iterator[docker.DockerClient]:
    """A client for one build, closed afterwards."""
    client = open_client(endpoint)
    try:
        yield client
    finally:
        client.close()


#: URL schemes of engines on this machine: hwb mounts its directories into build containers,
#: which an engine on another machine cannot see.
LOCAL_SCHEMES = ("unix://", "npipe://")


def is_local(url: str) -> bool:
    if url.startswith(LOCAL_SCHEMES):
        return True
    return url.startswith("tcp://") and url[len("tcp://") :].split(":")[0] in (
        "localhost",
        "127.0.0.1",
        "[::1]",
    )


def security_options(client: docker.DockerClient) -> set[str]:
    """The engine's security features by name: ``{"seccomp", "rootless", "selinux", ...}``."""
    try:
        options = client.info().get("SecurityOptions") or []
    except Exception:
        return set()
    names = set()
    for option in options:  # "name=seccomp,profile=default"
        for part in str(option).split(","):
            key, _, value = part.partition("=")
            if key == "name":
                names.add(value)
    return names
