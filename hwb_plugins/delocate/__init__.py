"""Repairer ``delocate``: macOS wheels get the libraries they link copied in (``.dylibs``), every
binary checked for the required architectures and the deployment target, and two thin wheels
(``x86_64`` and ``arm64``) merged into one ``universal2`` wheel.

delocate runs on the macOS host, as commands (``python -m delocate.cmd.delocate_wheel``,
``delocate_merge``) driven by :mod:`.repair` and :mod:`.fuse`; it needs Apple's ``otool``,
``install_name_tool``, ``lipo`` and ``codesign``. See ``docs/repair.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hwb import BuildEnv, ConfigKey, RepairRequest, RepairResult, hookimpl

NAME = "delocate"
PREFIX = "repair.delocate."


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        PREFIX + "require-archs": ConfigKey(
            "list",
            [],
            "Architectures every binary of a macOS wheel must hold, bundled libraries included: "
            "x86_64, arm64, universal2 (both). Default: those the wheel's platform tag names.",
        ),
        PREFIX + "deployment-target": ConfigKey(
            "str",
            None,
            "Oldest macOS the wheels support (11.0); a bundled library that needs a newer one is "
            "an error. Default: a macosx_X_Y repair.policy, else the build's target (the "
            "MACOSX_DEPLOYMENT_TARGET the backend was given, see platforms.md), else "
            "MACOSX_DEPLOYMENT_TARGET, else matrix.macos.deployment-target, else what the "
            "libraries need.",
        ),
    }


def is_macos(tags: Sequence[str]) -> bool:
    return bool(tags) and all(tag.startswith("macosx_") for tag in tags)


@hookimpl
def repair_wheel(wheel: Path, env: BuildEnv | None, request: RepairRequest) -> RepairResult | None:
    from hwb import wheelfile

    tags = wheelfile.platform_tags(wheel)
    if tags == ["any"]:
        return None  # a pure wheel: nothing to repair (the core says so, naming no repairer)
    if not is_macos(tags):
        return None
    from hwb_plugins.delocate.repair import repair

    return repair(wheel, env, request)


@hookimpl(optionalhook=True)  # the repair-command plugin's hook
def fuse_wheels(wheels: Sequence[Path], request: RepairRequest) -> RepairResult | None:
    from hwb import wheelfile

    if not wheels or not all(is_macos(wheelfile.platform_tags(w)) for w in wheels):
        return None
    from hwb_plugins.delocate.fuse import fuse

    return fuse(list(wheels), request)
