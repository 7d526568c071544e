"""The docker and podman plugins' hooks, for the engine each of them names.

A :class:`ContainerPlugin` made for an :class:`~hwb_plugins.container.engine.Engine` is the
plugin itself: its methods are the ``@hookimpl`` functions, and each plugin's entry point names
its instance (``docker = "hwb_plugins.docker:PLUGIN"``; pluggy registers objects as it registers
modules). Only cheap modules are imported here: the SDK and the build machinery load when a
build in the container isolation starts.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwb import (
    BuildEnv,
    Capabilities,
    CliOption,
    ConfigKey,
    EnvRequest,
    IsolationInfo,
    RepairRequest,
    RepairResult,
    hookimpl,
)
from hwb_plugins.container import settings as _settings
from hwb_plugins.container.engine import Engine

if TYPE_CHECKING:
    from hwb.cache import CacheArea
    from hwb_plugins.container.buildenv import ContainerBuildEnv

#: The Linux architectures an engine builds for through ``--platform`` (qemu for the foreign ones).
ARCHITECTURES = tuple(_settings.PLATFORM_ARCH.values())


def capabilities(name: str, rank: int) -> Capabilities:
    """What a container isolation of the engine ``name`` declares to ``auto`` and ``hwb matrix``."""
    prefix = f"isolation.{name}."
    return Capabilities(
        container=True,
        linux=("manylinux", "musllinux"),
        architectures=ARCHITECTURES,
        emulation=True,
        target_key=prefix + "platform",
        family_keys={"manylinux": prefix + "manylinux", "musllinux": prefix + "musllinux"},
        image_key=prefix + "image",
        hosts_key=prefix + "hosts",
        host_key=prefix + "host",
        rank=rank,
    )


class ContainerPlugin:
    """The hooks of the container isolation of one engine."""

    def __init__(self, engine: Engine, summary: str, rank: int) -> None:
        self.engine = engine
        self.info = IsolationInfo(
            engine.name, summary, check=self.check, capabilities=capabilities(engine.name, rank)
        )

    def check(self, config: Any = None) -> str | None:
        """The engine's availability: the one ``host`` names when set (``hwb matrix`` asks so
        for each engine of ``hosts``), else the environment's."""
        host = config.get(self.engine.prefix + "host") if config is not None else None
        if host and self.engine.check_host is not None:
            return self.engine.check_host(host)
        return self.engine.check()

    @hookimpl
    def register_isolation(self) -> IsolationInfo:
        return self.info

    @hookimpl
    def config_schema(self) -> dict[str, ConfigKey]:
        return _settings.schema(self.engine.name)

    @hookimpl
    def cli_options(self, command: str) -> list[CliOption] | None:
        if command not in ("build", "matrix"):
            return None
        return _settings.cli_options(self.engine.name, command)

    @hookimpl(optionalhook=True)  # the cache-command plugin's hook
    def cache_areas(self) -> list[CacheArea]:
        """The host's wheelhouse and the prepared environments (one of each for every engine),
        for ``hwb cache``."""
        from hwb_plugins.container.cache_areas import area, layers_area

        return [area(), layers_area()]

    @hookimpl
    def create_env(
        self, isolation: str, request: EnvRequest
    ) -> AbstractContextManager[BuildEnv] | None:
        if isolation != self.engine.name:
            return None
        from hwb_plugins.container.session import container_env

        return container_env(self.engine, request)

    def ours(self, env: object) -> ContainerBuildEnv | None:
        """``env`` when this engine made it, else ``None``."""
        if env is None or getattr(env, "isolation", None) != self.engine.name:
            return None
        from hwb_plugins.container.buildenv import ContainerBuildEnv

        return env if isinstance(env, ContainerBuildEnv) else None

    @hookimpl(wrapper=True)
    def repair_wheel(
        self, wheel: Path, env: BuildEnv | None, request: RepairRequest
    ) -> Generator[None, RepairResult | None, RepairResult | None]:
        """Hand ``auditwheel-policy`` and ``auditwheel-exclude`` to whichever repairer runs for a
        wheel built in this engine (the repairer itself runs in the container through
        ``env.run``)."""
        container_env = self.ours(env)
        if container_env is not None:
            settings = container_env.settings
            if settings.auditwheel_policy and not request.policy:
                request.policy = settings.auditwheel_policy
            for pattern in settings.auditwheel_exclude:
                if pattern not in request.exclude:
                    request.exclude.append(pattern)
        result = yield
        if container_env is not None and result is None:
            tag = _platform_tag(wheel)
            if tag.startswith("linux_"):
                # The core publishes such a wheel as built; say what that means here.
                request.reporter.warn(
                    f"no repairer handled {wheel.name}: it stays tagged {tag}, which PyPI "
                    "refuses and other distributions may not load; install the auditwheel "
                    "plugin to get a manylinux wheel"
                )
        return result


def _platform_tag(wheel: Path) -> str:
    return wheel.name[: -len(".whl")].split("-")[-1] if wheel.name.endswith(".whl") else ""
