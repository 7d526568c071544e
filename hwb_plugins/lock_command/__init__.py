"""``hwb lock``: write a build constraints file (``build-constraint``) that pins, with hashes,
the project's build requirements and what the backend asks for, resolved by uv for the
interpreters and platforms asked for. The command is this plugin's; builds apply the file in
every isolation (:mod:`hwb.constraints`)."""

from __future__ import annotations

from hwb import CommandLine, hookimpl


@hookimpl
def add_commands(cli: CommandLine) -> None:
    from hwb_plugins.lock_command.cli import register

    register(cli)
