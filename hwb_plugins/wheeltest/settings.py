"""``[tool.hwb.test]`` and its tables per operating system (``[tool.hwb.test.linux]``,
``.macos``, ``.windows``), whose keys replace the general ones for wheels of that system."""

from __future__ import annotations

import dataclasses
from typing import Any

from hwb import CliOption, Config, ConfigKey

SYSTEMS = ("linux", "macos", "windows")
IMPORT_CHECK = ("platform", "all", "off")

_KEYS: dict[str, tuple[str, Any, str]] = {
    "command": (
        "command",
        None,
        "Command that tests the installed wheel, run from a temporary directory: a string "
        "(run by the shell) or a list of arguments; {project} is the project's root, {wheel} "
        "the wheel's path (--test-command).",
    ),
    "requires": (
        "list",
        [],
        "Requirements installed beside the wheel for the test command (--test-requires, "
        "comma-separated).",
    ),
    "extras": ("list", [], "Extras of the project installed with the wheel (its [test] extra)."),
    "sources": (
        "list",
        [],
        "Files and directories of the project (relative to its root) copied into the "
        "directory the test command runs in.",
    ),
    "skip": (
        "list",
        [],
        "Builds not to test, as shell-style patterns of their identifiers (cp38-*, "
        "*-musllinux_*, cp313t-manylinux_aarch64).",
    ),
    "import-check": (
        "str",
        "platform",
        "With no command: platform: import a platform wheel's modules in a fresh environment "
        "before publishing it; all: pure wheels too; off: no check.",
    ),
}


def schema() -> dict[str, ConfigKey]:
    keys: dict[str, ConfigKey] = {}
    for name, (kind, default, text) in _KEYS.items():
        choices = IMPORT_CHECK if name == "import-check" else None
        keys[f"test.{name}"] = ConfigKey(kind, default, text, choices=choices)
        for system in SYSTEMS:
            keys[f"test.{system}.{name}"] = ConfigKey(
                kind,
                None,
                f"{name} for {system} wheels, over test.{name}.",
                choices=choices,
                env=f"HWB_TEST_{system.upper()}_{name.upper().replace('-', '_')}",
            )
    return keys


CLI_OPTIONS = (
    CliOption(
        ("--test-command",),
        "test.command",
        "Test each wheel with COMMAND before publishing it ({project}, {wheel}).",
        metavar="COMMAND",
    ),
    CliOption(
        ("--test-requires",),
        "test.requires",
        "Requirements for the test command, comma-separated.",
        metavar="REQS",
    ),
)


@dataclasses.dataclass
class TestSettings:
    __test__ = False  # not a pytest class

    command: str | list[str] | None
    requires: list[str]
    extras: list[str]
    sources: list[str]
    skip: list[str]
    import_check: str
    source: str
    """Where the command came from, for messages."""


def load(config: Config, system: str) -> TestSettings:
    """The settings for wheels of ``system``: its table's keys where set, else the general."""

    def get(name: str) -> tuple[Any, str]:
        specific = f"test.{system}.{name}"
        if system in SYSTEMS and config.get(specific) is not None:
            return config.get(specific), config.source(specific)
        return config.get(f"test.{name}"), config.source(f"test.{name}")

    command, source = get("command")
    return TestSettings(
        command=command or None,
        requires=list(get("requires")[0] or []),
        extras=list(get("extras")[0] or []),
        sources=list(get("sources")[0] or []),
        skip=list(get("skip")[0] or []),
        import_check=str(get("import-check")[0] or "platform"),
        source=source,
    )
