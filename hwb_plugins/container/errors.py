"""The container isolations' errors, and the one place engine exceptions become messages for
people.

Every message names what went wrong in one line and, where there is one, the fix: the
product's troubleshooting cases (engine not reachable, image not found, no space left) each
have their own. Messages that name a command (``docker system prune``, ``podman pull``) take it
from the :class:`~hwb_plugins.container.engine.Engine` of the build.
"""

from __future__ import annotations

import re

from hwb import BuildError, HwbError, IsolationUnavailable


class EngineUnavailable(IsolationUnavailable):
    """No engine answers (and none could be started), or the SDK is missing."""


class ImageUnavailable(BuildError, IsolationUnavailable):
    """The build image is neither on this machine nor pullable, or its Dockerfile fails.

    A build error (exit code 1) when the isolation was asked for; an unavailable isolation when
    ``auto`` chose it, which then falls back to the next strategy."""

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


def describe_connection_problem(
    exc: BaseException, where: str, display: str, start_hint: str, permission_hint: str
) -> tuple[str, str]:
    """``(reason, hint)`` for a failure to reach the ``display`` engine's socket at ``where``."""
    text = str(exc)
    lowered = text.lower()
    if "permission denied" in lowered or "errno 13" in lowered:
        return (f"permission denied on {where}", permission_hint)
    if "no such file" in lowered or "errno 2" in lowered:
        return (f"no {display} engine socket at {where}", start_hint)
    if "connection refused" in lowered:
        return (f"nothing listens on {where}", start_hint)
    if "timed out" in lowered or "timeout" in lowered:
        return (f"the {display} engine at {where} did not answer in time", start_hint)
    return (f"cannot reach the {display} engine at {where} ({one_line(text)[:160]})", start_hint)


def engine_message(exc: BaseException) -> str:
    """The engine's own explanation of an API error, on one line."""
    explanation = getattr(exc, "explanation", None)
    text = explanation if isinstance(explanation, str) and explanation else str(exc)
    if isinstance(explanation, bytes):
        text = explanation.decode("utf-8", "replace")
    return one_line(text)


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()
