"""The core's own hook implementations: core settings, the auto-isolation rule and the PEP 517
driver. Registered as plugin ``core``; every one of them can be overridden by a plugin."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hwb_core.hookspecs import hookimpl
from hwb_core.interfaces import (
    BuildEnv,
    CliOption,
    ConfigKey,
    IsolationChoice,
    PythonInfo,
    Reporter,
)
from hwb_core.matrix_config import MATRIX_KEYS
from hwb_core.platforms import CLI_OPTIONS as PLATFORM_OPTIONS
from hwb_core.platforms import PLATFORM_KEYS
from hwb_core.project import Project


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
        **MATRIX_KEYS,
        **REPAIR_KEYS,
        **PLATFORM_KEYS,
    }


# Read by the core (pipeline.repair) and handed to repairers and policies in RepairRequest.
REPAIR_KEYS: dict[str, ConfigKey] = {
    "repair.mode": ConfigKey(
        "str",
        "auto",
        "auto: a failed repair fails the build; warn: publish the wheel as built, with a warning; "
        "skip: do not repair (--no-repair).",
        choices=("auto", "skip", "warn"),
    ),
    "repair.policy": ConfigKey(
        "str",
        None,
        "Platform policy to repair to: manylinux_2_28, manylinux2014, musllinux_1_2 (the "
        "architecture is optional); default: the most compatible one the wheel meets.",
    ),
    "repair.exclude": ConfigKey(
        "list",
        [],
        "Libraries never to bundle, as shell-style patterns of their names (libcuda.so.*).",
    ),
    "repair.lib-sdir": ConfigKey(
        "str",
        None,
        "Where bundled libraries go in the wheel (default: the repairer's, .libs for auditwheel).",
    ),
    "repair.strip": ConfigKey(
        "bool", False, "Strip debugging symbols from bundled libraries and extensions."
    ),
}


@hookimpl(tryfirst=True)  # --platform is the core's (the docker plugin's takes the same flag)
def cli_options(command: str) -> list[CliOption] | None:
    if command not in ("build", "matrix"):
        return None
    # hwb matrix has a --platform of its own (a list of platforms); hwb build names one target.
    return [
        CliOption(
            ("--no-repair",),
            "repair.mode",
            "Publish wheels as built, without repair (repair.mode = skip).",
            is_flag=True,
            flag_value="skip",
        ),
        *(PLATFORM_OPTIONS if command == "build" else []),
    ]


@hookimpl(trylast=True)
def select_isolation(project: Project, python: PythonInfo) -> IsolationChoice:
    if not project.extensions.detected:
        return IsolationChoice("venv", "no extension modules found")
    evidence = "; ".join(project.extensions.reasons)
    if sys.platform.startswith("linux"):
        return IsolationChoice(
            "docker", f"extension modules ({evidence}) on Linux: docker gives manylinux wheels"
        )
    return IsolationChoice(
        "venv", f"extension modules ({evidence}) on {sys.platform}: native build"
    )


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
