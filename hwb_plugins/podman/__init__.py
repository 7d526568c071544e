"""Isolation ``podman``: the docker isolation's hardened, offline build, in podman.

The plugin is :data:`PLUGIN` (its entry point names it), over the toolkit's container library
(:mod:`hwb.container`), which drives podman through its Docker-compatible API with the Docker
SDK (the same calls as for Docker; see ``docs/podman.md`` for why not the ``podman`` command).
What is podman's own is in :mod:`.service`: finding a running service, or starting one for the
build and stopping it afterwards. Nothing here imports the SDK or runs podman until podman is
checked or used.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from hwb import Reporter
from hwb.container import ContainerPlugin, Engine

if TYPE_CHECKING:
    import docker

NAME = "podman"


def _connect(reporter: Reporter) -> AbstractContextManager[docker.DockerClient]:
    from hwb_plugins.podman.service import connect

    return connect(reporter)


def _check() -> str | None:
    from hwb_plugins.podman.service import problem

    return problem()


ENGINE = Engine(NAME, "Podman", connect=_connect, check=_check)
PLUGIN = ContainerPlugin(
    ENGINE,
    "a hardened, offline podman container from a manylinux/musllinux image (rootful or rootless)",
    rank=20,
)
