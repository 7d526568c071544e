"""Isolation ``dockerapi``: hwb's hardened, offline container build on a Docker-compatible
engine of this machine that is not the default Docker: Colima, OrbStack, Rancher Desktop, a
second dockerd, podman's Docker-compatible socket.

Only reaching the engine is written here. The container, its hardening, the wheelhouse, the
prepared environments, ``hwb matrix``, ``hwb cache``, ``--timeout`` and Ctrl-C come from hwb's
container library, ``hwb.container`` (docs/container-engines.md).

Which engine: ``host`` (or ``hosts``) in ``[tool.hwb.isolation.dockerapi]`` or
``--dockerapi-host ARCH=URL``, else ``HWB_DOCKERAPI_HOST``, else the first socket of a desktop
engine that exists.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from hwb import Reporter
from hwb.container import (
    ContainerPlugin,
    Endpoint,
    Engine,
    EngineUnavailable,
    is_local,
    ping,
    session,
)

if TYPE_CHECKING:
    import docker

NAME = "dockerapi"
VARIABLE = "HWB_DOCKERAPI_HOST"

#: Where desktop engines put their Docker-compatible socket, in the order they are tried.
KNOWN_SOCKETS = (
    "~/.colima/default/docker.sock",  # Colima
    "~/.orbstack/run/docker.sock",  # OrbStack
    "~/.rd/docker.sock",  # Rancher Desktop
)

START_HINT = (
    "start the engine (`colima start`, OrbStack, Rancher Desktop, the second dockerd), or set "
    f"{VARIABLE} to its socket (unix:///path/to/docker.sock)"
)
PERMISSION_HINT = f"give yourself access to the socket, or set {VARIABLE} to one you may use"


def default_url() -> str:
    """``HWB_DOCKERAPI_HOST``, else the first known socket that exists."""
    url = os.environ.get(VARIABLE)
    if url:
        return url
    for path in KNOWN_SOCKETS:
        socket = Path(path).expanduser()
        if socket.exists():
            return f"unix://{socket}"
    raise EngineUnavailable(
        f"{VARIABLE} is not set and no desktop engine's socket exists ({', '.join(KNOWN_SOCKETS)})",
        hint=START_HINT,
    )


def endpoint(url: str) -> Endpoint:
    """The engine at ``url``; one on another machine cannot see what hwb mounts into builds."""
    if not is_local(url):
        raise EngineUnavailable(
            f"the engine at {url} is on another machine: hwb mounts the source and the "
            "wheelhouse into build containers, which only an engine on this machine can see",
            hint="give a unix:// socket of this machine",
        )
    return Endpoint("Docker API", url, url, START_HINT, PERMISSION_HINT)


def connect_to(reporter: Reporter, url: str) -> AbstractContextManager[docker.DockerClient]:
    return session(endpoint(url))


def connect(reporter: Reporter) -> AbstractContextManager[docker.DockerClient]:
    return connect_to(reporter, default_url())


def check_host(url: str) -> str | None:
    try:
        return ping(endpoint(url))
    except EngineUnavailable as exc:
        return exc.one_line()


def check() -> str | None:
    try:
        url = default_url()
    except EngineUnavailable as exc:
        return exc.one_line()
    return check_host(url)


ENGINE = Engine(
    NAME,
    "Docker API",
    connect=connect,
    check=check,
    connect_to=connect_to,
    check_host=check_host,
)
PLUGIN = ContainerPlugin(
    ENGINE,
    "the docker isolation's hardened, offline container on another Docker-compatible engine",
    rank=30,
)
