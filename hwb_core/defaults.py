"""The core's own hook implementations: core settings and the PEP 517
driver. Registered as plugin ``core``; every one of them can be overridden by a plugin."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hwb_core.backend_env import KEYS as BACKEND_ENV_KEYS
from hwb_core.hookspecs import hookimpl
from hwb_core.interfaces import (
    BuildEnv,
    CliOption,
    ConfigKey,
    Reporter,
)
from hwb_core.project import Project
from hwb_core.target import CLI_OPTIONS as PLATFORM_OPTIONS
from hwb_core.target import PLATFORM_KEYS


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        "plugins": ConfigKey(
            "list", [], "Project-local plugin modules, imported from the project root."
        ),
        "python": ConfigKey(
            "str", None, "Interpreter to build with: 3.12, cp312 or a path.", env="HWB_PYTHON"
        ),
        "outdir": ConfigKey(
            "path", None, "Where wheels go (default: dist/ in the source).", env="HWB_OUTDIR"
        ),
        "config-settings": ConfigKey("table", {}, "PEP 517 config settings passed to the backend."),
        "isolation.strategy": ConfigKey(
            "str", "auto", "Isolation strategy: auto or a registered name.", env="HWB_ISOLATION"
        ),
        "timeout": ConfigKey(
            "float",
            0,
            "Seconds a build may take once its environment is being made (0: no limit); past "
            "it the backend, its process group or its container is stopped (exit code 124).",
            env="HWB_TIMEOUT",
            minimum=0,
        ),
        "isolation.preference": ConfigKey(
            "list",
            [],
            "Order in which auto, its fallbacks and hwb matrix prefer isolation strategies "
            "(names; those left out follow by their declared rank).",
        ),
        "test.enabled": ConfigKey(
            "bool",
            True,
            "Try each repaired wheel before publishing it (the try_wheel hook: the project's "
            "tests, the import check, organizations' checks); false (--no-test) publishes "
            "untried.",
        ),
        "build-constraint": ConfigKey(
            "path",
            None,
            "A constraints file (pip/uv format) every install of build requirements obeys; "
            "with hashes, hash checking is required (hwb lock writes one).",
            env="HWB_BUILD_CONSTRAINT",
        ),
        **BACKEND_ENV_KEYS,
        **PLATFORM_KEYS,
    }


@hookimpl(tryfirst=True)  # the core's flags are its own, whoever else declares them
def cli_options(command: str) -> list[CliOption] | None:
    # --platform names the one target of `hwb build` (a command building many targets has
    # its own).
    return [
        CliOption(
            ("--no-test",),
            "test.enabled",
            "Publish wheels without trying them (no tests, no import check).",
            is_flag=True,
            flag_value="false",
        ),
        CliOption(
            ("--build-constraint",),
            "build-constraint",
            "Install build requirements within the pins (and hashes) of FILE.",
            metavar="FILE",
        ),
        CliOption(
            ("--timeout",),
            "timeout",
            "Stop a build (each job's) that runs longer than SECONDS (exit code 124).",
            metavar="SECONDS",
        ),
        *(PLATFORM_OPTIONS if command == "build" else []),
    ]


@hookimpl(trylast=True)
def run_backend(
    env: BuildEnv,
    project: Project,
    config_settings: Mapping[str, Any],
    wheel_dir: Path,
    reporter: Reporter,
) -> Path:
    from hwb_core.backend import build_wheel

    return build_wheel(env, project, config_settings, wheel_dir, reporter)
