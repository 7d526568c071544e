"""Plugin ``test``: try each built wheel before it is published.

With ``[tool.hwb.test] command`` set, the wheel is installed (with its dependencies, ``extras``
and ``requires``) into a fresh environment of the isolation it was built in (a new container
of the same image, without network, for a container build) and the command runs there, from a
temporary directory holding ``sources``, never from the source tree. With no command, a
platform wheel is installed the same way and its modules imported (the import check,
``import-check``). See ``docs/testing.md``.
"""

from __future__ import annotations

from pathlib import Path

from hwb import CliOption, ConfigKey, WheelTestOutcome, WheelTestRequest, hookimpl
from hwb_plugins.wheeltest.settings import CLI_OPTIONS, schema


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return schema()


@hookimpl
def cli_options(command: str) -> list[CliOption] | None:
    return list(CLI_OPTIONS) if command in ("build", "matrix") else None


@hookimpl(optionalhook=True)  # the try-wheel plugin's hook
def try_wheel(wheel: Path, request: WheelTestRequest) -> WheelTestOutcome | None:
    from hwb_plugins.wheeltest.run import try_built_wheel

    return try_built_wheel(wheel, request)
