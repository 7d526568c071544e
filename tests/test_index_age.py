"""A throwaway venv build asks the index once per ``index-max-age`` (600 s): the next builds of
the same requirements, interpreter and index settings install from uv's cache alone when they
can (issue 12), which is PyPI's own caching period; 0 asks every time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_project

pytestmark = pytest.mark.real


def hatch_project(root: Path) -> Path:
    return write_project(root, {
        "pyproject.toml": """
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "hwb-index-age"
            version = "1.0"
            """,
        "src/hwb_index_age/__init__.py": "",
    })


def build(run_hwb: Any, project: Path, env: dict[str, str]) -> str:
    result = run_hwb("build", str(project), "--isolation", "venv", "-vv", env=env)
    assert result.returncode == 0, result.stderr
    installs = [line for line in result.stderr.splitlines() if " pip install " in line and line.startswith("$ ")]
    assert installs, result.stderr
    return installs[0]


def test_the_index_is_asked_once_per_period(run_hwb: Any, tmp_path: Path) -> None:
    project = hatch_project(tmp_path / "p")
    env = {"HWB_CACHE_DIR": str(tmp_path / "cache")}
    assert "--offline" not in build(run_hwb, project, env)
    assert "--offline" in build(run_hwb, project, env)
    assert list((tmp_path / "cache" / "resolved").iterdir())
    # Past the period (or with 0), the index is asked again.
    assert "--offline" not in build(run_hwb, project, {**env, "HWB_ISOLATION_VENV_INDEX_MAX_AGE": "0"})
    for marker in (tmp_path / "cache" / "resolved").iterdir():
        old = marker.stat().st_mtime - 3600
        import os

        os.utime(marker, (old, old))
    assert "--offline" not in build(run_hwb, project, env)
    assert "--offline" in build(run_hwb, project, env)
