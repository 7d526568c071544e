"""Repairer ``delvewheel``: Windows wheels get the DLLs their extension modules load copied in
(``<package>.libs``), with mangled names so two wheels' copies of one DLL cannot clash.

The Windows counterpart of the ``auditwheel`` and ``delocate`` repairers, built the same way:
the hook only claims ``win32``/``win_amd64``/``win_arm64`` wheels, and :mod:`.repair` drives
``python -m delvewheel repair`` as a command on the Windows host (delvewheel is never
imported). Settings come from ``[tool.hwb.repair]`` (``exclude``, ``lib-sdir``) and this
plugin's own ``[tool.hwb.repair.delvewheel]`` table. See ``docs/platforms.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hwb import BuildEnv, ConfigKey, RepairRequest, RepairResult, hookimpl

NAME = "delvewheel"
PREFIX = "repair.delvewheel."
WINDOWS_TAGS = ("win32", "win_amd64", "win_arm64")


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        PREFIX + "add-path": ConfigKey(
            "list",
            [],
            "Directories searched for the DLLs a Windows wheel loads, before PATH "
            "(delvewheel --add-path); relative ones are taken from the project directory.",
        ),
        PREFIX + "no-mangle": ConfigKey(
            "list",
            [],
            "DLL names (patterns allowed) bundled under their own names (delvewheel --no-mangle).",
        ),
        PREFIX + "namespace-pkg": ConfigKey(
            "list",
            [],
            "Top-level namespace packages, whose __init__.py delvewheel must not create "
            "(delvewheel --namespace-pkg).",
        ),
    }


def is_windows(tags: Sequence[str]) -> bool:
    return bool(tags) and all(tag in WINDOWS_TAGS for tag in tags)


@hookimpl
def repair_wheel(wheel: Path, env: BuildEnv | None, request: RepairRequest) -> RepairResult | None:
    from hwb import wheelfile

    tags = wheelfile.platform_tags(wheel)
    if tags == ["any"]:
        return None  # a pure wheel: nothing to repair (the core says so, naming no repairer)
    if not is_windows(tags):
        return None  # Linux, macOS: another repairer's
    from hwb_plugins.delvewheel.repair import repair

    return repair(wheel, env, request)
