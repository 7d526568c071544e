"""Isolation ``docker``: manylinux and musllinux wheels built in a hardened, offline container.

The hooks only; the work is done by :mod:`.container` (the container and its ``BuildEnv``),
:mod:`.images` (pull, Dockerfile builds), :mod:`.wheelhouse` (build requirements downloaded on
the host) and :mod:`.engine` (the SDK). The Docker SDK is imported only when docker isolation
is checked or used, never by ``hwb --version``, ``hwb plugins`` or builds in other isolations.

See ``docs/docker.md`` for every key, the security model and troubleshooting.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwb_core import hookimpl
from hwb_core.interfaces import (
    BuildEnv,
    CliOption,
    ConfigKey,
    EnvRequest,
    IsolationInfo,
    RepairRequest,
    RepairResult,
    Reporter,
)
from hwb_core.project import Project
from hwb_plugins.docker import settings as _settings

if TYPE_CHECKING:
    from hwb_plugins.docker.container import DockerBuildEnv

NAME = "docker"


def _check() -> str | None:
    from hwb_plugins.docker.engine import problem

    return problem()


@hookimpl
def register_isolation() -> IsolationInfo:
    return IsolationInfo(
        NAME,
        "a hardened, offline container from a manylinux/musllinux image (portable Linux wheels)",
        check=_check,
    )


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return dict(_settings.SCHEMA)


@hookimpl
def cli_options(command: str) -> list[CliOption] | None:
    if command not in ("build", "matrix"):
        return None
    return _settings.cli_options(command)


@hookimpl
def create_env(isolation: str, request: EnvRequest) -> AbstractContextManager[BuildEnv] | None:
    if isolation != NAME:
        return None
    from hwb_plugins.docker.container import docker_env

    return docker_env(request)


def _ours(env: object) -> DockerBuildEnv | None:
    if env is None or getattr(env, "isolation", None) != NAME:
        return None
    from hwb_plugins.docker.container import DockerBuildEnv

    return env if isinstance(env, DockerBuildEnv) else None


@hookimpl
def run_backend(
    env: BuildEnv,
    project: Project,
    config_settings: Mapping[str, Any],
    wheel_dir: Path,
    reporter: Reporter,
) -> Path | None:
    """The core's PEP 517 driver, with each hook call run in the container: pyproject-hooks'
    ``_in_process.py`` and the call's input travel through the scratch mount, paths translated."""
    docker_env = _ours(env)
    if docker_env is None:
        return None
    from hwb_core.backend import build_wheel

    return build_wheel(
        docker_env, project, config_settings, wheel_dir, reporter, run_hook=docker_env.run_hook
    )


@hookimpl(wrapper=True)
def repair_wheel(
    wheel: Path, env: BuildEnv | None, request: RepairRequest
) -> Generator[None, RepairResult | None, RepairResult | None]:
    """Hand ``auditwheel-policy`` and ``auditwheel-exclude`` to whichever repairer runs for a
    wheel built in docker (the repairer itself runs in the container through ``env.run``)."""
    docker_env = _ours(env)
    if docker_env is not None:
        settings = docker_env.settings
        if settings.auditwheel_policy and not request.policy:
            request.policy = settings.auditwheel_policy
        for pattern in settings.auditwheel_exclude:
            if pattern not in request.exclude:
                request.exclude.append(pattern)
    result = yield
    if docker_env is not None and result is None and _platform_tag(wheel).startswith("linux_"):
        # The core publishes such a wheel as built; say what that means for a docker build.
        request.reporter.warn(
            f"no repairer handled {wheel.name}: it stays tagged {_platform_tag(wheel)}, which PyPI "
            "refuses and other distributions may not load; install the auditwheel plugin to get "
            "a manylinux wheel"
        )
    return result


def _platform_tag(wheel: Path) -> str:
    return wheel.name[: -len(".whl")].split("-")[-1] if wheel.name.endswith(".whl") else ""
