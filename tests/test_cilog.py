"""CI-native logs (the cilog plugin), from the real CLI: ``hwb build`` of a project whose
backend fails at once, inside GitHub Actions and GitLab CI as they announce themselves, and
outside them. (``hwb matrix`` and ``hwb collect`` in CI, with their job summary:
tests/test_matrix_ci.py.)"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import write_project

Run = Callable[..., subprocess.CompletedProcess[str]]


def broken(root: Path, tool_hwb: str = "") -> Path:
    """A project whose in-tree backend fails as it is imported (no requirements: no installs)."""
    return write_project(
        root,
        {
            "pyproject.toml": """
            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["."]

            [project]
            name = "folded"
            version = "1.0"
        """
            + tool_hwb,
            "backend.py": 'raise SystemExit("the backend refuses")\n',
        },
    )


def build(run_hwb: Run, project: Path, env: dict[str, str], *args: str) -> str:
    result = run_hwb(
        "build", str(project), "--isolation", "none", "-o", str(project / "out"), *args, env=env
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "::" not in result.stdout and "section_" not in result.stdout  # stdout: --json's
    return result.stderr


def test_github_actions_folds_each_step_and_annotates_the_failure(
    run_hwb: Run, tmp_path: Path
) -> None:
    err = build(run_hwb, broken(tmp_path / "p"), {"GITHUB_ACTIONS": "true"})
    lines = err.splitlines()
    groups = [line for line in lines if line.startswith("::group::")]
    assert groups[0].startswith("::group::building folded for CPython "), err
    assert groups[-1] == "::group::building wheel with backend", err
    assert lines.count("::endgroup::") == len(groups), err  # every group closed
    (error,) = [line for line in lines if line.startswith("::error ")]
    assert lines.index(error) > max(i for i, line in enumerate(lines) if line == "::endgroup::")
    title, message = error.removeprefix("::error title=").split("::", 1)
    assert title.startswith("hwb%3A folded for CPython "), error  # ":" escaped in a property
    assert title.endswith('in none failed at step "building wheel with backend"'), error
    assert message.startswith("the build backend 'backend' failed"), error


def test_gitlab_ci_uses_collapsible_sections_and_a_red_error(
    hwb_env: dict[str, str], tmp_path: Path
) -> None:
    project = broken(tmp_path / "p")
    result = subprocess.run(  # bytes: text mode would turn the sections' "\r" into "\n"
        [sys.executable, "-m", "hwb_core", "build", str(project), "--isolation", "none"],
        env={**hwb_env, "GITLAB_CI": "true"},
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    err = result.stderr.decode()
    assert result.returncode == 1, err
    starts = [line for line in err.split("\n") if "section_start:" in line]
    ends = [line for line in err.split("\n") if "section_end:" in line]
    assert len(starts) == len(ends) >= 2, err
    assert re.fullmatch(
        r"\x1b\[0Ksection_start:\d+:(hwb_\d+)\[collapsed=true\]\r\x1b\[0K"
        r"building wheel with backend",
        starts[-1],
    ), repr(starts[-1])
    name = starts[-1].split(":")[2].split("[")[0]
    assert re.fullmatch(rf"\x1b\[0Ksection_end:\d+:{name}\r\x1b\[0K", ends[-1]), repr(ends[-1])
    assert "\x1b[31;1merror: hwb: folded for CPython " in err, err
    assert "::group::" not in err and "::error" not in err, err


@pytest.mark.parametrize(
    ("env", "args", "tool_hwb"),
    [
        ({}, (), ""),  # outside CI
        ({"GITHUB_ACTIONS": "true"}, ("--no-ci-log",), ""),
        ({"GITLAB_CI": "true"}, (), "[tool.hwb]\nci-log = false\n"),
    ],
    ids=["outside-ci", "no-ci-log", "pyproject"],
)
def test_no_ci_markers_outside_ci_or_when_turned_off(
    run_hwb: Run, tmp_path: Path, env: dict[str, str], args: tuple[str, ...], tool_hwb: str
) -> None:
    err = build(run_hwb, broken(tmp_path / "p", tool_hwb), env, *args)
    assert "the backend refuses" in err or "build backend" in err, err
    for marker in ("::group::", "::endgroup::", "::error", "section_start", "section_end", "\x1b"):
        assert marker not in err, err


def test_a_failed_matrix_job_is_annotated_by_its_id(run_hwb: Run, tmp_path: Path) -> None:
    """``hwb matrix`` runs its jobs side by side: each job's log is one group, and the
    annotation of a failed one names the job by its id, as the summary table does."""
    project = broken(tmp_path / "p")
    result = run_hwb(
        "matrix", str(project), "--isolation", "none", "-o", str(tmp_path / "out"),
        env={"GITHUB_ACTIONS": "true"},
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("::group::job py3-none-any: failed (") for line in lines), lines
    (error,) = [line for line in lines if line.startswith("::error ")]
    title = error.removeprefix("::error title=").split("::", 1)[0]
    assert title == 'hwb%3A job py3-none-any failed at step "building wheel with backend"', error
