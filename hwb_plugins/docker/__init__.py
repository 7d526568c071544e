"""Isolation ``docker``: manylinux and musllinux wheels built in a hardened, offline container.

The plugin is :data:`PLUGIN` (its entry point names it), over the engine-independent code in :mod:`hwb_plugins.container`; what is
Docker's own is here: the engine is the one ``DOCKER_HOST`` (or the default socket) names. The
Docker SDK is imported only when docker isolation is checked or used, never by
``hwb --version``, ``hwb plugins`` or builds in other isolations.

See ``docs/docker.md`` for every key, the security model and troubleshooting.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from hwb_core.interfaces import Reporter
from hwb_plugins.container.engine import Endpoint, Engine
from hwb_plugins.container.plugin import ContainerPlugin

if TYPE_CHECKING:
    import docker

NAME = "docker"

START_HINT = (
    "start the engine (`sudo systemctl start docker` on Linux, open Docker Desktop on macOS and "
    "Windows, or run `dockerd &`), or point DOCKER_HOST at a running one"
)
PERMISSION_HINT = (
    "add yourself to the docker group (`sudo usermod -aG docker $USER`, then log in again) or "
    "run rootless Docker and set DOCKER_HOST"
)


def _endpoint() -> Endpoint:
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    return Endpoint("Docker", None, where, START_HINT, PERMISSION_HINT)


def _connect(reporter: Reporter) -> AbstractContextManager[docker.DockerClient]:
    from hwb_plugins.container.engine import session

    return session(_endpoint())


def _check() -> str | None:
    from hwb_plugins.container.engine import ping

    return ping(_endpoint())


ENGINE = Engine(NAME, "Docker", connect=_connect, check=_check)
PLUGIN = ContainerPlugin(
    ENGINE,
    "a hardened, offline container from a manylinux/musllinux image (portable Linux wheels)",
    rank=10,
)
