"""``hwb build``: build one wheel from a source tree or an sdist (:func:`hwb.build`),
with a live status line on a terminal. The command is the plugin's; the steps of the build are
the core's and the other plugins'."""

from __future__ import annotations

from hwb import CommandLine, hookimpl


@hookimpl
def add_commands(cli: CommandLine) -> None:
    from hwb_plugins.build_command.cli import register

    register(cli)
