"""The core's own hook implementations: core settings, the auto-isolation rule and the PEP 517
driver. Registered as plugin ``core``; every one of them can be overridden by a plugin."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hwb_core.hookspecs import hookimpl
from hwb_core.interfaces import BuildEnv, ConfigKey, IsolationChoice, PythonInfo, Reporter
from hwb_core.matrix_config import MATRIX_KEYS
from hwb_core.project import Project


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        "plugins": ConfigKey("list", [], "Project-local plugin modules, imported from the project root."),
        "python": ConfigKey("str", None, "Interpreter to build with: 3.12, cp312 or a path.", env="HWB_PYTHON"),
        "outdir": ConfigKey("path", None, "Where wheels go (default: dist/ in the source).", env="HWB_OUTDIR"),
        "config-settings": ConfigKey("table", {}, "PEP 517 config settings passed to the backend."),
        "isolation.strategy": ConfigKey(
            "str", "auto", "Isolation strategy: auto or a registered name.", env="HWB_ISOLATION"
        ),
        **MATRIX_KEYS,
    }


@hookimpl(trylast=True)
def select_isolation(project: Project, python: PythonInfo) -> IsolationChoice:
    if not project.extensions.detected:
        return IsolationChoice("venv", "no extension modules found")
    evidence = "; ".join(project.extensions.reasons)
    if sys.platform.startswith("linux"):
        return IsolationChoice("docker", f"extension modules ({evidence}) on Linux: docker gives manylinux wheels")
    return IsolationChoice("venv", f"extension modules ({evidence}) on {sys.platform}: native build")


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
