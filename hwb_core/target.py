"""What a build is for: the :class:`Target`, read from ``--platform`` (the ``platform`` key).

    resolve(pm, asked, config, python, environ)   a Target with every blank filled in
    check_environment(target, env)                the environment builds for it

The kernel knows this machine only. Reading ``--platform`` is the plugins' job, on the
``resolve_target``, ``prepare_target`` and ``check_wheel`` hooks: ``OS[-ARCH]`` and Linux
targets (the ``linux`` plugin), macOS deployment targets and universal2, Windows architectures
and Visual Studio. The words for platforms are the toolkit's (:mod:`hwb.host`,
:mod:`hwb.target`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hwb_core import host
from hwb_core.errors import UsageError
from hwb_core.interfaces import CliOption, ConfigKey

if TYPE_CHECKING:
    from hwb_core.config import Config
    from hwb_core.interfaces import BuildEnv, PythonInfo

#: The configuration key that names the target (``--platform`` of ``hwb build``).
TARGET_KEY = "platform"

PLATFORM_KEYS: dict[str, ConfigKey] = {
    TARGET_KEY: ConfigKey(
        "str",
        None,
        "Platform to build for: macos, macosx-11.0-universal2, macos-arm64, windows, win-amd64, "
        "win-arm64, linux-aarch64, linux/arm64 (default: this machine).",
        env="HWB_PLATFORM",
    ),
}

CLI_OPTIONS = [
    CliOption(
        ("--platform",),
        TARGET_KEY,
        "Platform to build for: macos, macosx-11.0-universal2, macos-arm64, windows, "
        "win-amd64, win-arm64, linux-aarch64 (default: this machine).",
        metavar="TARGET",
    )
]


@dataclasses.dataclass(frozen=True)
class Target:
    """What a build is for. ``arch`` is the word of the wheel tag (``universal2``, ``x86_64``,
    ``arm64``, ``x86``, ``aarch64``); ``None`` until resolved."""

    os: str
    arch: str | None = None
    deployment_target: str | None = None
    """macOS only: the oldest macOS the wheel supports, ``"11.0"``."""
    source: str = ""
    """Where the deployment target came from, for messages (``--platform``, a key, ...)."""
    asked: bool = False
    """True when ``--platform`` (or the ``platform`` key) named it; False for this machine."""

    @property
    def archs(self) -> tuple[str, ...]:
        """The architectures every binary must hold: ``universal2`` is x86_64 and arm64."""
        if self.arch is None:
            return ()
        if self.arch == "universal2":
            return ("x86_64", "arm64")
        return (self.arch,)

    @property
    def spec(self) -> str:
        """The target written as ``--platform`` takes it (``macosx-11.0-universal2``)."""
        if self.os == "macos" and self.deployment_target:
            return f"macosx-{self.deployment_target}-{self.arch or ''}".rstrip("-")
        return f"{self.os}-{self.arch}" if self.arch else self.os

    def describe(self) -> str:
        text = host.pretty(self.os) + (f" {self.arch}" if self.arch else "")
        if self.deployment_target:
            text += f", {host.pretty(self.os)} {self.deployment_target}+"
        return text


def resolve(
    pm: Any, asked: str | None, config: Config, python: PythonInfo, environ: Mapping[str, str]
) -> Target:
    """The target of one build: what a plugin's ``resolve_target`` makes of it (the ``linux``
    plugin reads ``OS[-ARCH]``), else this machine, its architecture filled in."""
    found: Target | None = pm.hook.resolve_target(
        asked=asked, config=config, python=python, environ=environ
    )
    if found is not None:
        return found
    if asked:
        raise UsageError(
            f"unknown platform {asked.strip()!r}",
            hint="no installed plugin builds for it (`hwb plugins` lists them; the linux "
            "plugin reads OS[-ARCH])",
        )
    here = host.host_os()
    return Target(here, host.host_arch(here))


def check_environment(target: Target, env: BuildEnv) -> Target:
    """The environment builds for the target: wheels of an operating system other than Linux
    are built on the host (not in a container), Linux wheels on a Linux host or in a
    container. Returns the target from here on: when none was asked for and the environment is
    a container (on a Mac), the wheel is a Linux one, of the container's architecture."""
    if not target.asked and not env.on_host:
        return Target("linux")
    if target.os != "linux" and not env.on_host:
        raise UsageError(
            f"{host.pretty(target.os)} wheels cannot be built in {env.describe()}, which does "
            "not run on this machine",
            hint="build them in an isolation that runs on this machine (`hwb plugins` lists them)",
        )
    if target.os == "linux" and env.on_host and host.host_os() != "linux":
        raise UsageError(
            f"Linux wheels are built on Linux or in a container; {env.describe()} runs on "
            f"this {host.pretty(host.host_os())} machine",
            hint="build them in a container isolation (`hwb plugins` lists them)",
        )
    return target
