"""Reaching the Docker engine through the SDK (imported here, and only when docker is used)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hwb_plugins.docker.errors import DockerUnavailable, describe_connection_problem

if TYPE_CHECKING:
    import docker

#: Seconds the availability check waits for the engine's answer.
PING_TIMEOUT = 3.0


def _sdk() -> Any:
    try:
        import docker
    except ImportError:
        raise DockerUnavailable(
            "the docker Python package (the Docker SDK) is not installed",
            hint="install it beside hwb: `pip install docker`",
        ) from None
    return docker


def problem() -> str | None:
    """``None`` when an engine answers a ping within :data:`PING_TIMEOUT`, else why not (and
    the fix), on one line. Used by ``IsolationInfo.check`` and so by ``--isolation auto``."""
    try:
        client = connect(timeout=PING_TIMEOUT)
    except DockerUnavailable as exc:
        return exc.one_line()
    client.close()
    return None


#: Read timeout of a build's client: a compiler may stay silent for a long time while its
#: output is streamed. Ctrl-C still interrupts a wait.
BUILD_TIMEOUT = 24 * 3600.0


def connect(timeout: float = BUILD_TIMEOUT) -> docker.DockerClient:
    """A client for the engine named by the environment (``DOCKER_HOST`` or the default socket)."""
    sdk = _sdk()
    try:
        # from_env asks the engine for its API version: this is the ping.
        client = sdk.from_env(timeout=timeout)
        client.ping()
    except sdk.errors.DockerException as exc:
        reason, hint = describe_connection_problem(exc)
        raise DockerUnavailable(f"cannot use Docker: {reason}", hint=hint) from None
    except OSError as exc:  # socket errors that escape the SDK
        reason, hint = describe_connection_problem(exc)
        raise DockerUnavailable(f"cannot use Docker: {reason}", hint=hint) from None
    return client


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
