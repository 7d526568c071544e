"""Container jobs over several Docker engines (issue 14): a second dockerd on a local socket
(tests/docker/second_engine.sh, started by .ci/setup), a matrix spread over both, each job's
report naming its engine, the same wheels as from one engine, and an engine that does not
answer reported with its jobs going to the other."""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import assert_clean_error, require, write_project
from tests.docker.support import BUILD_IMAGE, client_with_images

pytestmark = pytest.mark.docker

Run = Callable[..., subprocess.CompletedProcess[str]]

FIRST = "unix:///var/run/docker.sock"
SECOND = "unix:///run/hwb-docker2.sock"


def second_engine() -> None:
    result = subprocess.run(["/usr/bin/docker", "-H", SECOND, "image", "inspect", BUILD_IMAGE],
                            capture_output=True, text=True)
    require(result.returncode == 0,
            f"no second Docker engine with {BUILD_IMAGE} at {SECOND}: run tests/docker/second_engine.sh")


def project(root: Path) -> Path:
    return write_project(root, {
        "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "twoengines"
            version = "1.0"
        """,
        "setup.py": """
            from setuptools import Extension, setup
            setup(ext_modules=[Extension("twoengines", ["twoengines.c"])])
        """,
        "twoengines.c": """
            #include <Python.h>
            static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "twoengines", NULL, -1, NULL};
            PyMODINIT_FUNC PyInit_twoengines(void) { return PyModule_Create(&m); }
        """,
    })


def matrix(run_hwb: Run, src: Path, out: Path, *engines: str) -> subprocess.CompletedProcess[str]:
    hosts = [arg for url in engines for arg in ("--docker-host", f"x86_64={url}")]
    return run_hwb("matrix", str(src), "--isolation", "docker", "--image", BUILD_IMAGE,
                   "--python", "3.11,3.12", "--parallel", "2", "-o", str(out), "--json", *hosts)


def wheels(directory: Path) -> dict[str, list[str]]:
    out = {}
    for wheel in directory.glob("*.whl"):
        with zipfile.ZipFile(wheel) as zf:
            out[wheel.name] = sorted(zf.namelist())
    return out


@pytest.mark.xdist_group("docker-engines")
def test_a_matrix_spreads_its_jobs_over_two_engines(run_hwb: Run, tmp_path: Path) -> None:
    client_with_images()
    second_engine()
    src = project(tmp_path / "p")
    result = matrix(run_hwb, src, tmp_path / "two", FIRST, SECOND)
    assert result.returncode == 0, result.stderr
    jobs = json.loads(result.stdout)["jobs"]
    assert {j["status"] for j in jobs} == {"ok"}, jobs
    assert sorted(j["engine"] for j in jobs) == sorted([FIRST, SECOND]), jobs
    for job in jobs:
        assert f"engine: {job['engine']}" in Path(job["log"]).read_text()

    one = matrix(run_hwb, src, tmp_path / "one", FIRST)
    assert one.returncode == 0, one.stderr
    assert {j["engine"] for j in json.loads(one.stdout)["jobs"]} == {FIRST}
    assert wheels(tmp_path / "two") == wheels(tmp_path / "one") != {}


@pytest.mark.xdist_group("docker-engines")
def test_an_engine_that_does_not_answer_is_reported_and_gets_no_job(run_hwb: Run, tmp_path: Path) -> None:
    client_with_images()
    src = project(tmp_path / "p")
    absent = "unix:///run/hwb-no-such-engine.sock"
    result = matrix(run_hwb, src, tmp_path / "out", absent, FIRST)
    assert result.returncode == 0, result.stderr
    assert f"docker engine {absent} (x86_64) cannot be used" in result.stderr, result.stderr
    assert {j["engine"] for j in json.loads(result.stdout)["jobs"]} == {FIRST}

    # hwb build with only engines that do not answer: one line naming them.
    line = assert_clean_error(run_hwb("build", str(src), "--isolation", "docker", "--image", BUILD_IMAGE,
                                      "--python", "3.12", "--docker-host", f"x86_64={absent}"))
    assert "no Docker engine answered" in line, line


def test_an_engine_on_another_machine_is_refused_in_one_line(run_hwb: Run, tmp_path: Path) -> None:
    src = project(tmp_path / "p")
    line = assert_clean_error(run_hwb("build", str(src), "--isolation", "docker", "--python", "3.12",
                                      "--docker-host", "x86_64=ssh://builder@arm-box"))
    assert "is on another machine" in line, line
