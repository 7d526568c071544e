"""Trying built wheels before publishing (the ``try_wheel`` hook, the ``test`` plugin):
a C extension's tests run against the installed wheel in a fresh venv and in a fresh container
without network; a failing test, a wheel that does not import, ``--no-test``, ``skip``, pure
wheels, an organization's own check, and the matrix's test column. Real builds throughout."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import DATA, REPO, assert_clean_error, json_out, write_project
from tests.docker.support import BUILD_IMAGE, client_with_images, hwb_containers

Run = Callable[..., subprocess.CompletedProcess[str]]

SAMPLES = DATA / "wheel_tests"


def sample(name: str, dest: Path, where: str = "host") -> Path:
    """A private copy of a sample project; ``tested``'s own test checks ``where`` it runs."""
    root = shutil.copytree(SAMPLES / name, dest / name)
    if name == "tested":
        (root / "tests" / "expected.txt").write_text(where + "\n")
    return root


def only_record(result: subprocess.CompletedProcess[str]) -> dict:
    wheels = json_out(result)["wheels"]
    assert len(wheels) == 1, wheels
    return wheels[0]


# --------------------------------------------------------------------------- venv


@pytest.mark.real
def test_a_c_extensions_tests_run_against_the_installed_wheel_in_a_venv(
    run_hwb: Run, tmp_path: Path
) -> None:
    project = sample("tested", tmp_path)
    out = tmp_path / "out"
    result = run_hwb("build", str(project), "-o", str(out), "--isolation", "venv", "--json")
    record = only_record(result)
    test = record["test"]
    assert test["passed"] is True and test["skipped"] is None, test
    assert test["command"].startswith("pytest -p no:cacheprovider "), test
    assert test["command"].endswith("/tests"), test
    assert test["duration_s"] > 0 and test["log"], test
    assert [c["name"] for c in test["checks"]] == ["test command"]
    log = Path(test["log"]).read_text()
    assert "3 passed" in log, log[-2000:]
    assert [p.name for p in out.iterdir() if p.suffix == ".whl"] == [record["filename"]]


@pytest.mark.real
def test_a_failing_test_publishes_nothing_and_names_the_command(
    run_hwb: Run, tmp_path: Path
) -> None:
    project = sample("tested", tmp_path, where="container")  # wrong on purpose: fails on the host
    out = tmp_path / "out"
    result = run_hwb("build", str(project), "-o", str(out), "--isolation", "venv")
    line = assert_clean_error(result, 1)
    assert "test command failed (exit code 1): pytest -p no:cacheprovider " in line, line
    assert "nothing was published" in line and "--no-test" in line, line
    assert "test_where_it_runs" in result.stderr, result.stderr  # the output's tail
    assert not out.exists() or not list(out.iterdir()), list(out.iterdir())


@pytest.mark.real
def test_blocking_the_try_wheel_stage_publishes_untried_as_no_test(
    run_hwb: Run, tmp_path: Path
) -> None:
    """The stage is the ``try-wheel`` plugin (on the core's ``wheel_checker``): blocked, no
    check runs, the test plugin and an organization's check stay loaded and idle."""
    project = sample("tested", tmp_path, where="container")  # would fail if it ran
    shutil.copy(REPO / "docs" / "examples" / "size_budget.py", project / "size_budget.py")
    with (project / "pyproject.toml").open("a") as f:
        f.write(
            '\n[tool.hwb]\nplugins = ["size_budget"]\n[tool.hwb.size-budget]\nmax-kilobytes = 1\n'
        )
    out = tmp_path / "out"
    result = run_hwb(
        "-p", "no:try-wheel", "build", str(project), "-o", str(out), "--isolation", "venv", "--json"
    )
    record = only_record(result)
    assert record["test"] is None, record
    assert (out / record["filename"]).is_file()
    assert "failed to load" not in result.stderr, result.stderr


WHEEL_CHECKER = """
import contextlib
from hwb_core import hookimpl

@hookimpl(tryfirst=True)
def wheel_checker(request):
    @contextlib.contextmanager
    def stage():
        marker = request.work_dir.parent / "checker-ready"
        marker.write_text(request.isolation)  # before the backend runs
        def check(wheel):
            assert marker.exists()
            print(f"checked {wheel.name} built in {marker.read_text()}", flush=True)
            return []
        yield check
    return stage()
"""


@pytest.mark.real
def test_a_plugin_answering_wheel_checker_replaces_the_stage(run_hwb: Run, tmp_path: Path) -> None:
    """The first ``wheel_checker`` answer is the build's stage: ready before the backend runs,
    then handed the repaired wheel; ``--no-test`` does not ask for it."""
    project = sample("tested", tmp_path, where="container")  # the test plugin would fail it
    (project / "own_checker.py").write_text(WHEEL_CHECKER)
    with (project / "pyproject.toml").open("a") as f:
        f.write('\n[tool.hwb]\nplugins = ["own_checker"]\n')
    out = tmp_path / "out"
    result = run_hwb("build", str(project), "-o", str(out), "--isolation", "venv")
    assert result.returncode == 0, result.stderr
    assert "checked hwbtested-" in result.stdout and "built in venv" in result.stdout, result.stdout
    result = run_hwb("build", str(project), "-o", str(out), "--isolation", "venv", "--no-test")
    assert result.returncode == 0 and "checked" not in result.stdout, result.stdout


@pytest.mark.real
def test_a_wheel_that_cannot_load_its_library_is_refused_by_the_import_check(
    run_hwb: Run, tmp_path: Path
) -> None:
    project = sample("needslib", tmp_path)
    out = tmp_path / "out"
    result = run_hwb("build", str(project), "-o", str(out), "--isolation", "venv")
    line = assert_clean_error(result, 1)
    assert "the built wheel does not import: hwbneedslib (ImportError: libhwbhelper.so" in line
    assert not out.exists() or not list(out.iterdir())

    # --no-test publishes it untried; --json says nothing was tried.
    result = run_hwb(
        "build", str(project), "-o", str(out), "--isolation", "venv", "--no-test", "--json"
    )
    record = only_record(result)
    assert record["test"] is None, record
    assert (out / record["filename"]).is_file()


@pytest.mark.real
def test_skip_patterns_and_pure_wheels(run_hwb: Run, tmp_path: Path) -> None:
    project = sample("tested", tmp_path, where="container")  # would fail if it ran
    out = tmp_path / "out"
    result = run_hwb(
        "build", str(project), "-o", str(out), "--isolation", "venv", "--json",
        env={"HWB_TEST_SKIP": "pp*,cp3*-manylinux_x86_64,cp3*-manylinux_aarch64"},
    )
    test = only_record(result)["test"]
    assert test["passed"] is True and "matches test.skip 'cp3*-manylinux_x86_64'" in test["skipped"]

    pure = write_project(tmp_path / "pure", {
        "pyproject.toml": """
            [build-system]
            requires = ["flit_core>=3.9"]
            build-backend = "flit_core.buildapi"
            [project]
            name = "hwbpure"
            version = "1.0"
            description = "pure"
        """,
        "hwbpure/__init__.py": "raise ImportError('broken on purpose')\n",
    })
    # A pure wheel is not import-checked by default ...
    record = only_record(run_hwb("build", str(pure), "-o", str(out), "--isolation", "venv", "--json"))
    assert record["test"] is None
    # ... unless import-check = "all".
    result = run_hwb(
        "build", str(pure), "-o", str(tmp_path / "out2"), "--isolation", "venv",
        env={"HWB_TEST_IMPORT_CHECK": "all"},
    )
    line = assert_clean_error(result, 1)
    assert "does not import: hwbpure (ImportError: broken on purpose)" in line, line


@pytest.mark.real
def test_an_organizations_check_on_the_hook_can_refuse_a_wheel(
    run_hwb: Run, tmp_path: Path
) -> None:
    """The size budget of docs/examples, as a project plugin implementing ``try_wheel``."""
    project = sample("tested", tmp_path)
    shutil.copy(REPO / "docs" / "examples" / "size_budget.py", project / "size_budget.py")
    with (project / "pyproject.toml").open("a") as f:
        f.write('\n[tool.hwb]\nplugins = ["size_budget"]\n[tool.hwb.size-budget]\nmax-kilobytes = 1\n')
    out = tmp_path / "out"
    result = run_hwb("build", str(project), "-o", str(out), "--isolation", "venv")
    line = assert_clean_error(result, 1)
    assert "KiB, over the budget of 1 KiB (size-budget.max-kilobytes)" in line, line
    assert not out.exists() or not list(out.iterdir())
    # Blocking the built-in test plugin leaves the organization's check alone.
    result = run_hwb("-p", "no:test", "build", str(project), "-o", str(out), "--isolation", "venv")
    assert "over the budget" in assert_clean_error(result, 1)
    # A budget the wheel meets: both checks pass and both are in the record.
    result = run_hwb(
        "build", str(project), "-o", str(out), "--isolation", "venv", "--json",
        env={"HWB_SIZE_BUDGET_MAX_KILOBYTES": "500"},
    )
    checks = only_record(result)["test"]["checks"]
    assert sorted(c["name"] for c in checks) == ["size budget", "test command"], checks
    assert all(c["passed"] for c in checks), checks


# --------------------------------------------------------------------------- docker


@pytest.mark.docker
@pytest.mark.xdist_group("docker-wheel-tests")
def test_the_tests_run_in_a_fresh_container_without_network(run_hwb: Run, tmp_path: Path) -> None:
    client = client_with_images()
    project = sample("tested", tmp_path, where="container")
    out = tmp_path / "out"
    result = run_hwb(
        "build", str(project), "-o", str(out), "--isolation", "docker", "--image", BUILD_IMAGE,
        "--python", "3.12", "--json",
    )
    record = only_record(result)
    test = record["test"]
    assert test["passed"] is True, test
    assert "pytest -p no:cacheprovider /hwb/src/tests" == test["command"], test
    assert "3 passed" in Path(test["log"]).read_text()
    assert "in a fresh docker" in result.stderr, result.stderr
    assert record["filename"].startswith("hwbtested-1.0-cp312-cp312-manylinux")
    assert hwb_containers(client, "hwbtested") == []


@pytest.mark.docker
@pytest.mark.xdist_group("docker-wheel-tests")
def test_the_import_check_in_a_container_refuses_a_wheel_missing_its_library(
    run_hwb: Run, tmp_path: Path
) -> None:
    client = client_with_images()
    project = sample("needslib", tmp_path)
    out = tmp_path / "out"
    result = run_hwb(
        "build", str(project), "-o", str(out), "--isolation", "docker", "--image", BUILD_IMAGE,
        "--python", "3.12",
    )
    line = assert_clean_error(result, 1)
    assert "does not import: hwbneedslib (ImportError: libhwbhelper.so" in line, line
    assert not out.exists() or not list(out.iterdir())
    assert hwb_containers(client, "hwbneedslib") == []


# --------------------------------------------------------------------------- matrix


@pytest.mark.real
def test_the_matrix_shows_each_jobs_test_and_a_failed_test_fails_its_job_only(
    run_hwb: Run, tmp_path: Path
) -> None:
    from tests.conftest import pyenv_python

    project = sample("tested", tmp_path)
    # 3.11's job fails its test (the test asks for 3.12); 3.12's passes.
    (project / "tests" / "test_version.py").write_text(
        "import sys\n\ndef test_version():\n    assert sys.version_info[:2] == (3, 12)\n"
    )
    out = tmp_path / "out"
    pythons = f"{pyenv_python('3.11')},{pyenv_python('3.12')}"
    result = run_hwb(
        "matrix", str(project), "-o", str(out), "--isolation", "venv", "--python", pythons,
        "--json", "--parallel", "2",
    )
    assert result.returncode == 1, result.stderr
    jobs = {j["python_version"][:4]: j for j in json.loads(result.stdout)["jobs"]}
    assert jobs["3.12"]["status"] == "ok" and jobs["3.12"]["test"]["passed"] is True, jobs
    assert jobs["3.11"]["status"] == "failed", jobs
    assert jobs["3.11"]["test"]["passed"] is False, jobs
    assert "test command failed" in jobs["3.11"]["error"], jobs
    assert ", test passed" in result.stderr and "test command failed" in result.stderr
    assert [p.name for p in out.iterdir() if p.suffix == ".whl"] == [
        Path(jobs["3.12"]["wheel"]).name
    ]


# --------------------------------------------------------------------------- none


@pytest.mark.real
def test_without_isolation_the_wheel_is_tried_beside_the_interpreter_never_in_it(
    run_hwb: Run, tmp_path: Path
) -> None:
    from tests.conftest import pyenv_python

    interpreter = tmp_path / "interp"
    uv = [sys.executable, "-m", "uv"]
    subprocess.run([*uv, "venv", "-q", str(interpreter), "--python", str(pyenv_python("3.12"))], check=True)
    python = interpreter / "bin" / "python"
    subprocess.run([*uv, "pip", "install", "-q", "--python", str(python), "setuptools>=68"], check=True)
    project = sample("tested", tmp_path)
    out = tmp_path / "out"
    record = only_record(run_hwb(
        "build", str(project), "-o", str(out), "--isolation", "none", "--python", str(python), "--json",
    ))
    assert record["test"]["passed"] is True, record
    listed = subprocess.run([*uv, "pip", "list", "--python", str(python)], capture_output=True, text=True)
    assert "hwbtested" not in listed.stdout and "pytest" not in listed.stdout, listed.stdout


# --------------------------------------------------------------------------- sources, extras


@pytest.mark.parametrize("isolation", ["venv", pytest.param("docker", marks=pytest.mark.docker)])
@pytest.mark.xdist_group("docker-wheel-tests")
def test_sources_are_copied_beside_a_list_command_and_extras_are_installed(
    run_hwb: Run, tmp_path: Path, isolation: str
) -> None:
    """``sources`` copies the tests next to the run, a list command runs without a shell, and
    the project's ``test`` extra brings pytest (from the host's wheelhouse in a container)."""
    project = sample("tested", tmp_path, where="container" if isolation == "docker" else "host")
    text = (project / "pyproject.toml").read_text()
    text = text.replace('version = "1.0"', 'version = "1.0"\n\n[project.optional-dependencies]\ntest = ["pytest"]')
    text = text.replace('command = "pytest -p no:cacheprovider {project}/tests"\nrequires = ["pytest"]', (
        'command = ["python", "-m", "pytest", "-p", "no:cacheprovider", "tests/test_installed.py"]\n'
        'extras = ["test"]\nsources = ["tests"]'
    ))
    (project / "pyproject.toml").write_text(text)
    image = ["--image", BUILD_IMAGE, "--python", "3.12"] if isolation == "docker" else []
    result = run_hwb("build", str(project), "-o", str(tmp_path / "out"), "--isolation", isolation, *image, "--json")
    test = only_record(result)["test"]
    assert test["passed"] is True, test
    assert test["command"] == "python -m pytest -p no:cacheprovider tests/test_installed.py", test
    assert "3 passed" in Path(test["log"]).read_text()


# --------------------------------------------------------------------------- units


def test_identifiers_read_like_the_matrix_jobs() -> None:
    from hwb.wheelfile import identifier

    assert identifier("cp312", Path("a-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")) == (
        "cp312-manylinux_x86_64")
    assert identifier("cp313t", Path("a-1-cp313-cp313t-musllinux_1_2_aarch64.whl")) == "cp313t-musllinux_aarch64"
    assert identifier("pypy39_pp73", Path("a-1-pp39-pypy39_pp73-manylinux2014_x86_64.whl")) == (
        "pp39-manylinux_x86_64")
    assert identifier("cp312", Path("a-1-cp312-cp312-macosx_11_0_arm64.whl")) == "cp312-macosx_arm64"
    assert identifier("cp312", Path("a-1-cp312-cp312-win_amd64.whl")) == "cp312-win_amd64"
    assert identifier("cp312", Path("a-1-py3-none-any.whl")) == "py3-none-any"


def test_the_import_check_imports_top_level_modules_then_nested_extensions() -> None:
    from hwb_plugins.wheeltest.modules import failures, importable

    members = [
        "pkg/__init__.py", "pkg/_speed.cpython-312-x86_64-linux-gnu.so", "pkg/sub/_c.abi3.so",
        "single.py", "_top.cpython-312-x86_64-linux-gnu.so", "pkg.libs/libfoo-1a2b.so.1",
        "pkg-1.0.dist-info/RECORD", "pkg-1.0.data/scripts/tool", "hook.pth", "not-a-module/x.py",
    ]
    assert importable(members) == ["pkg", "single", "_top", "pkg._speed", "pkg.sub._c"]
    assert failures("imported a\ncannot import b: ImportError: libx.so: cannot open\n") == (
        "b (ImportError: libx.so: cannot open)")
