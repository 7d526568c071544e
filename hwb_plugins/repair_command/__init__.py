"""``hwb repair``: repair wheels built elsewhere, with the same repairers and organizations'
policies a build uses (the ``repair_wheel`` hook, on the host). The command is the plugin's;
the repairers are plugins of their own (auditwheel, delocate, delvewheel)."""

from __future__ import annotations

from typing import Any

from hwb import CommandLine, hookimpl


@hookimpl
def add_hookspecs(pm: Any) -> None:
    """``fuse_wheels`` (:mod:`hwb_plugins.repair_command.hookspecs`), for ``hwb repair --fuse``."""
    from hwb_plugins.repair_command import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl
def add_commands(cli: CommandLine) -> None:
    from hwb_plugins.repair_command.cli import register

    register(cli)
