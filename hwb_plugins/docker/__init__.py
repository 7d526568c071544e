"""Isolation ``docker``: manylinux and musllinux wheels built in a hardened, offline container.

The plugin is :data:`PLUGIN` (its entry point names it), over the toolkit's container library
(:mod:`hwb.container`: the names a third party's engine uses too); what is Docker's own is here:
the engine is the one ``DOCKER_HOST`` (or the default socket) names. The Docker SDK is imported
only when docker isolation is checked or used, never by ``hwb --version``, ``hwb plugins`` or
builds in other isolations.

See ``docs/docker.md`` for every key, the security model and troubleshooting.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from hwb import Reporter
from hwb.container import ContainerPlugin, Endpoint, Engine

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


def _endpoint(host: str | None = None) -> Endpoint:
    """The engine at ``host`` (a URL or a context name), else the environment's: ``DOCKER_HOST``,
    else the current context (``DOCKER_CONTEXT``, ``docker context use``), else the default
    socket."""
    if host is None and not os.environ.get("DOCKER_HOST"):
        host = os.environ.get("DOCKER_CONTEXT") or _current_context()
    if not host:
        where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        return Endpoint("Docker", None, where, START_HINT, PERMISSION_HINT)
    url = host if "://" in host else _context_host(host)
    from hwb.container import EngineUnavailable, is_local

    if not is_local(url):
        raise EngineUnavailable(
            f"the Docker engine at {url} is on another machine: hwb mounts its directories "
            "(the source, the wheelhouse) into build containers, which only an engine on this "
            "machine can see",
            hint="give engines on this machine (unix:// sockets), or run hwb where the engine is",
        )
    return Endpoint("Docker", url, url, START_HINT, PERMISSION_HINT)


def _current_context() -> str | None:
    """The context ``docker context use`` chose, unless it is the default one."""
    import json
    from pathlib import Path

    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        name = json.loads(config.read_text()).get("currentContext")
    except (OSError, ValueError, AttributeError):
        return None
    return None if name in (None, "", "default") else str(name)


def _context_host(name: str) -> str:
    from hwb.container import EngineUnavailable, sdk

    api = sdk()
    try:
        context = api.context.ContextAPI.get_context(name)
    except Exception:  # the SDK raises its own errors and KeyError for a damaged store
        context = None
    host = getattr(context, "Host", None) if context is not None else None
    if not host:
        raise EngineUnavailable(
            f"there is no Docker context named {name!r}",
            hint="`docker context ls` lists them; or give the engine's URL (unix:///run/docker.sock)",
        )
    return str(host)


def _connect(reporter: Reporter) -> AbstractContextManager[docker.DockerClient]:
    from hwb.container import session

    return session(_endpoint())


def _connect_to(reporter: Reporter, host: str) -> AbstractContextManager[docker.DockerClient]:
    from hwb.container import session

    return session(_endpoint(host))


def _check() -> str | None:
    return _check_host(None)


def _check_host(host: str | None) -> str | None:
    from hwb.container import EngineUnavailable, ping

    try:
        return ping(_endpoint(host))
    except EngineUnavailable as exc:
        return exc.one_line()


ENGINE = Engine(
    NAME,
    "Docker",
    connect=_connect,
    check=_check,
    connect_to=_connect_to,
    check_host=_check_host,
)
PLUGIN = ContainerPlugin(
    ENGINE,
    "a hardened, offline container from a manylinux/musllinux image (portable Linux wheels)",
    rank=10,
)
