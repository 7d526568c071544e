"""Provenance: beside each published wheel, a record of how it was made (an in-toto statement
with a SLSA provenance predicate, :mod:`.record`), published atomically with the wheel through
the ``publish_files`` hook; and ``hwb verify WHEEL``, which checks a wheel against its record
(:mod:`.verify`). What the build environment held is listed once the backend has built the
wheel (:mod:`.environment`). Off with ``[tool.hwb.provenance] enabled = false`` or
``--no-provenance``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hwb import BuildEnv, CliOption, CommandLine, Config, ConfigKey, Reporter, hookimpl

ENABLED = "provenance.enabled"
#: The record's file name is the wheel's with this added.
SUFFIX = ".provenance.json"


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        ENABLED: ConfigKey(
            "bool",
            True,
            f"Publish a provenance record (an in-toto statement, SLSA provenance) beside each "
            f"wheel, as WHEEL{SUFFIX}; false (--no-provenance): none.",
        )
    }


@hookimpl
def cli_options(command: str) -> list[CliOption] | None:
    if command not in ("build", "matrix"):
        return None
    return [
        CliOption(
            ("--no-provenance",),
            ENABLED,
            f"Publish no provenance record (WHEEL{SUFFIX}) beside the wheels.",
            is_flag=True,
            flag_value="false",
        )
    ]


@hookimpl
def after_build_scripts(env: BuildEnv, config: Config, work_dir: Path) -> Any:
    if not config.get(ENABLED):
        return None
    from hwb_plugins.provenance.environment import scripts

    return scripts(env, work_dir)


@hookimpl
def wheel_made(env: BuildEnv, config: Config, work_dir: Path) -> Mapping[str, Any] | None:
    if not config.get(ENABLED):
        return None
    from hwb_plugins.provenance.environment import held

    return {"build_requirements": held(env, work_dir)}


@hookimpl
def publish_files(result: Any, reporter: Reporter) -> Mapping[str, bytes] | None:
    if not result.config.get(ENABLED):
        return None
    import json

    from hwb_plugins.provenance.record import statement

    text = json.dumps(statement(result), indent=2, sort_keys=False) + "\n"
    reporter.debug(f"provenance record: {result.path.name}{SUFFIX}")
    return {result.path.name + SUFFIX: text.encode()}


@hookimpl
def add_commands(cli: CommandLine) -> None:
    from hwb_plugins.provenance.verify import register

    register(cli)
