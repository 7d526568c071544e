"""The docker plugin's errors, and the one place engine exceptions become messages for people.

Every message names what went wrong in one line and, where there is one, the fix: the
product's troubleshooting cases (daemon not reachable, image not found, no space left) each
have their own.
"""

from __future__ import annotations

import re

from hwb_core.errors import BuildError, HwbError, IsolationUnavailable

START_DAEMON_HINT = (
    "start the engine (`sudo systemctl start docker` on Linux, open Docker Desktop on macOS and "
    "Windows, or run `dockerd &`), or point DOCKER_HOST at a running one"
)
PRUNE_HINT = "free space with `docker system prune -a` (unused images, containers and build cache)"


class DockerUnavailable(IsolationUnavailable):
    """No Docker engine answers, or the SDK is missing."""


class ImageUnavailable(BuildError, IsolationUnavailable):
    """The build image is neither on this machine nor pullable, or its Dockerfile fails.

    A build error (exit code 1) when docker was asked for; an unavailable isolation when
    ``auto`` chose docker, which then falls back to venv."""

    exit_code = BuildError.exit_code


class ContainerError(HwbError):
    """The engine refused to create or start the build container, or lost it.

    Not a :class:`BuildError`: the core's PEP 517 driver rewords build errors as backend
    failures, and these are not the backend's."""


class InterpreterNotInImage(BuildError):
    """The image has no ``/opt/python/<tag>`` for the requested interpreter."""


class MemoryLimitExceeded(HwbError):
    """A step was killed by the container's memory limit (not the backend's fault either)."""


class NoSpaceLeft(HwbError):
    """The engine's disk, or the disk the container writes to, is full."""


class WheelNotAvailable(BuildError):
    """A build requirement has no wheel for the container, and the container is offline."""


def is_no_space(text: str) -> bool:
    return "no space left on device" in text.lower()


def describe_connection_problem(exc: BaseException) -> tuple[str, str]:
    """``(reason, hint)`` for a failure to reach the engine."""
    text = str(exc)
    lowered = text.lower()
    where = _docker_host()
    if "permission denied" in lowered or "errno 13" in lowered:
        return (
            f"permission denied on {where}",
            "add yourself to the docker group (`sudo usermod -aG docker $USER`, then log in "
            "again) or run rootless Docker and set DOCKER_HOST",
        )
    if "no such file" in lowered or "errno 2" in lowered:
        return (f"no Docker engine socket at {where}", START_DAEMON_HINT)
    if "connection refused" in lowered:
        return (f"nothing listens on {where}", START_DAEMON_HINT)
    if "timed out" in lowered or "timeout" in lowered:
        return (f"the Docker engine at {where} did not answer in time", START_DAEMON_HINT)
    short = re.sub(r"\s+", " ", text).strip()
    return (f"cannot reach the Docker engine at {where} ({short[:160]})", START_DAEMON_HINT)


def _docker_host() -> str:
    import os

    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def engine_message(exc: BaseException) -> str:
    """The engine's own explanation of an API error, on one line."""
    explanation = getattr(exc, "explanation", None)
    text = explanation if isinstance(explanation, str) and explanation else str(exc)
    if isinstance(explanation, bytes):
        text = explanation.decode("utf-8", "replace")
    return re.sub(r"\s+", " ", text).strip()
