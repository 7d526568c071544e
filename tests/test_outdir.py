"""Where a relative output directory points, for each place it can be set, with real builds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_project

pytestmark = pytest.mark.real

WHEEL = "outdirs-1.0-py3-none-any.whl"


def project(root: Path, outdir: str | None = None) -> Path:
    extra = f'\n[tool.hwb]\noutdir = "{outdir}"\n' if outdir else ""
    return write_project(
        root,
        {
            "pyproject.toml": """
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "outdirs"
            version = "1.0"
            requires-python = ">=3.8"
            """ + extra,
            "outdirs/__init__.py": "",
        },
    )


def sdist_of(source: Path, into: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--installer", "uv", "--outdir", str(into),
         str(source)],
        check=True, capture_output=True,
    )
    (sdist,) = into.glob("*.tar.gz")
    return sdist


def test_a_relative_outdir_in_pyproject_is_relative_to_the_project(run_hwb: Any, tmp_path: Path) -> None:
    src = project(tmp_path / "src", "wheelhouse")
    result = run_hwb("build", str(src), "--isolation", "venv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (src / "wheelhouse" / WHEEL).is_file()


def test_a_relative_outdir_in_an_sdist_lands_beside_the_sdist(run_hwb: Any, tmp_path: Path) -> None:
    sdist = sdist_of(project(tmp_path / "src", "wheelhouse"), tmp_path / "sdists")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    result = run_hwb("build", str(sdist), "--isolation", "venv", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sdists" / "wheelhouse" / WHEEL).is_file(), result.stderr
    assert f"built {tmp_path / 'sdists' / 'wheelhouse' / WHEEL}" in result.stderr


def test_an_sdist_without_outdir_builds_beside_itself(run_hwb: Any, tmp_path: Path) -> None:
    sdist = sdist_of(project(tmp_path / "src"), tmp_path / "sdists")
    result = run_hwb("build", str(sdist), "--isolation", "venv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sdists" / WHEEL).is_file()


@pytest.mark.parametrize("how", ["-o", "HWB_OUTDIR"])
def test_a_relative_outdir_from_the_command_line_or_environment_is_relative_to_the_cwd(
    how: str, run_hwb: Any, tmp_path: Path
) -> None:
    src = project(tmp_path / "src", "from-pyproject")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    args = ["-o", "here"] if how == "-o" else []
    env = {"HWB_OUTDIR": "here"} if how == "HWB_OUTDIR" else None
    result = run_hwb("build", str(src), "--isolation", "venv", *args, cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    assert (cwd / "here" / WHEEL).is_file()
    assert not (src / "from-pyproject").exists()


def test_a_wheel_that_cannot_be_published_is_a_one_line_error_and_leaves_no_part_file(
    run_hwb: Any, tmp_path: Path
) -> None:
    """Publishing fails (here a directory stands where the wheel goes): exit 1, one line naming
    the path, no partial wheel and no .part file (issue 11)."""
    from tests.plugins.backends import tiny_project

    project = tiny_project(tmp_path / "proj")
    first = run_hwb("build", str(project), "--isolation", "venv", "-o", str(tmp_path / "probe"), "--json")
    assert first.returncode == 0, first.stderr
    name = Path(json.loads(first.stdout)["wheels"][0]["path"]).name
    outdir = tmp_path / "out"
    (outdir / name).mkdir(parents=True)
    (outdir / name / "keep").write_text("in the way")
    result = run_hwb("build", str(project), "--isolation", "venv", "-o", str(outdir))
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: could not publish {name} into {outdir} (")
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert sorted(p.name for p in outdir.iterdir()) == [name]  # only what was in the way
    assert (outdir / name / "keep").read_text() == "in the way"
