"""``hwb matrix`` run for real: pyenv interpreters, setuptools from PyPI, gcc, child processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_clean_error, pyenv_python, require, wheel_members, write_project

FOUR = ("3.10", "3.11", "3.12", "3.13")


def c_extension(
    root: Path,
    *,
    refuse_minor: int | None = None,
    requires_python: str = ">=3.8",
    tool_hwb: str = "",
) -> Path:
    """A setuptools project with one C extension; ``refuse_minor`` makes it fail to compile for
    that Python 3 minor version."""
    refuse = (
        f'#if PY_MINOR_VERSION == {refuse_minor}\n#error "cext refuses Python 3.{refuse_minor}"\n#endif\n'
        if refuse_minor is not None
        else ""
    )
    write_project(
        root,
        {
            "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "cext"
            version = "0.1"
            requires-python = "{requires_python}"

            [tool.setuptools]
            package-dir = {{"" = "src"}}
            ext-modules = [{{name = "cext._speed", sources = ["src/cext/_speed.c"]}}]
            """
            + tool_hwb,
            "src/cext/__init__.py": "from cext._speed import add\n",
        },
    )
    (root / "src/cext/_speed.c").write_text(
        "#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n"
        + refuse
        + "static PyObject *add(PyObject *self, PyObject *args) {\n"
        "    long a, b;\n"
        '    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;\n'
        "    return PyLong_FromLong(a + b);\n}\n"
        'static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "add"}, {NULL, NULL, 0, NULL}};\n'
        'static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};\n'
        "PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&mod); }\n"
    )
    return root


def need(*versions: str) -> None:
    for version in versions:
        pyenv_python(version)


def report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in result.stderr, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)  # stdout holds the JSON and nothing else
    return data


def by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {job["id"]: job for job in data["jobs"]}


def wheel_tags(path: str) -> tuple[str, str, str]:
    python_tag, abi_tag, platform_tag = Path(path).name[: -len(".whl")].split("-")[-3:]
    return python_tag, abi_tag, platform_tag


# --------------------------------------------------------------------------- the checks


@pytest.mark.real
def test_a_c_extension_for_four_interpreters_two_at_a_time(run_hwb, tmp_path: Path) -> None:
    need(*FOUR)
    project = c_extension(tmp_path / "cext")
    out = tmp_path / "out"
    result = run_hwb(
        "matrix",
        str(project),
        "--python",
        ",".join(FOUR),
        "--parallel",
        "2",
        "--isolation",
        "venv",
        "-o",
        str(out),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    jobs = report(result)["jobs"]
    assert [job["status"] for job in jobs] == ["ok"] * 4
    assert set(jobs[0]) >= {
        "python",
        "platform",
        "arch",
        "isolation",
        "status",
        "wheel",
        "duration_s",
        "error",
        "log",
    }
    for version, job in zip(FOUR, jobs, strict=True):
        tag = "cp" + version.replace(".", "")
        assert (job["python"], job["platform"], job["arch"], job["isolation"]) == (
            version,
            "linux",
            "x86_64",
            "venv",
        )
        assert job["python_version"].startswith(version + ".")
        python_tag, abi_tag, platform_tag = wheel_tags(job["wheel"])
        assert (python_tag, abi_tag) == (tag, tag)
        assert platform_tag.endswith("x86_64") and "linux" in platform_tag
        assert any(
            name.startswith(f"cext/_speed.cpython-{tag[2:]}")
            for name in wheel_members(Path(job["wheel"]))
        )
        assert Path(job["wheel"]).parent == out
        log = Path(job["log"]).read_text()
        assert "building wheel with setuptools.build_meta" in log and "gcc" in log
        # The backend's warning (ext-modules is experimental) reached this job's log, not stderr.
        assert "backend warning:" in log
        assert job["error"] is None and job["duration_s"] > 0
    assert sorted(p.name for p in out.glob("*.whl")) == sorted(Path(j["wheel"]).name for j in jobs)
    assert "BuildBackendWarning" not in result.stderr
    # Parallel jobs built from private copies: the project tree was left as it was.
    assert not (project / "build").exists() and not list(project.glob("src/*.egg-info"))


@pytest.mark.real
def test_a_version_that_does_not_exist_fails_its_job_and_the_others_land(
    run_hwb, tmp_path: Path
) -> None:
    need("3.12", "3.13")
    project = c_extension(tmp_path / "cext")
    out = tmp_path / "out"
    result = run_hwb(
        "matrix",
        str(project),
        "--python",
        "3.12,3.99,3.13",
        "-j",
        "2",
        "--isolation",
        "venv",
        "-o",
        str(out),
        "--json",
    )
    line = assert_clean_error(result, 1)
    assert "1 of 3 jobs failed (cp399-manylinux_x86_64)" in line
    jobs = by_id(report(result))
    assert jobs["cp399-manylinux_x86_64"]["status"] == "failed"
    assert "no Python matching '3.99' was found" in jobs["cp399-manylinux_x86_64"]["error"]
    assert jobs["cp399-manylinux_x86_64"]["python_version"] is None
    assert Path(jobs["cp399-manylinux_x86_64"]["log"]).is_file()
    assert [jobs[j]["status"] for j in ("cp312-manylinux_x86_64", "cp313-manylinux_x86_64")] == ["ok", "ok"]
    assert len(list(out.glob("*.whl"))) == 2


@pytest.mark.real
def test_a_build_that_fails_for_one_interpreter_does_not_stop_the_others(
    run_hwb, tmp_path: Path
) -> None:
    need("3.11", "3.12")
    project = c_extension(tmp_path / "cext", refuse_minor=11)
    result = run_hwb(
        "matrix",
        str(project),
        "--python",
        "3.11,3.12",
        "-j",
        "2",
        "--isolation",
        "venv",
        "-o",
        str(tmp_path / "out"),
        "--json",
    )
    assert_clean_error(result, 1)
    jobs = by_id(report(result))
    failed = jobs["cp311-manylinux_x86_64"]
    assert failed["status"] == "failed"
    assert "build backend" in failed["error"]
    assert "cext refuses Python 3.11" in Path(failed["log"]).read_text()
    assert jobs["cp312-manylinux_x86_64"]["status"] == "ok"


@pytest.mark.real
def test_fail_fast_starts_nothing_after_the_first_failure(run_hwb, tmp_path: Path) -> None:
    need("3.11", "3.12", "3.13")
    project = c_extension(tmp_path / "cext", refuse_minor=11)
    result = run_hwb(
        "matrix",
        str(project),
        "--python",
        "3.11,3.12,3.13",
        "-j",
        "1",
        "--fail-fast",
        "--isolation",
        "venv",
        "-o",
        str(tmp_path / "out"),
        "--json",
    )
    assert_clean_error(result, 1)
    jobs = report(result)["jobs"]
    assert [job["status"] for job in jobs] == ["failed", "skipped", "skipped"]
    assert jobs[1]["error"] == "not started: --fail-fast after cp311-manylinux_x86_64 failed"
    assert not list((tmp_path / "out").glob("*.whl"))


# --------------------------------------------------------------------------- which jobs


@pytest.mark.real
def test_excludes_from_pyproject_leave_jobs_out(run_hwb, tmp_path: Path) -> None:
    need("3.12", "3.13")
    project = c_extension(
        tmp_path / "cext",
        tool_hwb="""
        [tool.hwb.matrix]
        python = ["3.11", "3.12", "3.13"]

        [[tool.hwb.matrix.exclude]]
        python = "3.11"

        [[tool.hwb.matrix.exclude]]
        python = ["3.13"]
        platform = "linux"
        arch = "amd64"
        """,
    )
    result = run_hwb(
        "matrix", str(project), "--isolation", "venv", "-o", str(tmp_path / "out"), "--json"
    )
    assert result.returncode == 0, result.stderr
    assert [job["id"] for job in report(result)["jobs"]] == ["cp312-manylinux_x86_64"]
    assert "2 excluded" in result.stderr


@pytest.mark.real
def test_without_a_list_every_interpreter_satisfying_requires_python_is_built(
    run_hwb, tmp_path: Path
) -> None:
    need("3.12", "3.13")
    project = c_extension(tmp_path / "cext", requires_python=">=3.12")
    result = run_hwb(
        "matrix", str(project), "--isolation", "venv", "-o", str(tmp_path / "out"), "--json"
    )
    assert result.returncode == 0, result.stderr
    jobs = report(result)["jobs"]
    versions = [tuple(int(p) for p in job["python_version"].split(".")[:2]) for job in jobs]
    assert (3, 12) in versions and (3, 13) in versions
    assert all(v >= (3, 12) for v in versions)
    assert len(versions) == len(set(versions))  # one job per version: the newest patch release
    assert all(job["status"] == "ok" for job in jobs)
    assert "leaves out" in result.stderr and "3.11" in result.stderr


@pytest.mark.real
def test_a_listed_interpreter_outside_requires_python_is_skipped(run_hwb, tmp_path: Path) -> None:
    need("3.11", "3.12")
    project = c_extension(tmp_path / "cext", requires_python=">=3.12")
    result = run_hwb(
        "matrix",
        str(project),
        "--python",
        "3.11,3.12",
        "--isolation",
        "venv",
        "-o",
        str(tmp_path / "out"),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    jobs = by_id(report(result))
    assert jobs["cp311-manylinux_x86_64"]["status"] == "skipped"
    assert "requires-python '>=3.12' excludes Python 3.11" in jobs["cp311-manylinux_x86_64"]["error"]
    assert jobs["cp312-manylinux_x86_64"]["status"] == "ok"


@pytest.mark.real
def test_a_pure_python_project_is_built_once(run_hwb, tmp_path: Path) -> None:
    need("3.11", "3.12", "3.13")
    project = write_project(
        tmp_path / "pure",
        {
            "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "pure"
            version = "1.0"
            """,
            "pure/__init__.py": "VALUE = 1\n",
        },
    )
    out = tmp_path / "out"
    result = run_hwb(
        "matrix",
        str(project),
        "--python",
        "3.11,3.13,3.12",
        "--platform",
        "linux,windows",
        "--isolation",
        "venv",
        "-o",
        str(out),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    (job,) = report(result)["jobs"]
    assert (job["status"], job["platform"], job["arch"], job["python"]) == (
        "ok",
        "any",
        "any",
        "3.13",
    )
    assert Path(job["wheel"]).name == "pure-1.0-py3-none-any.whl"
    assert [p.name for p in out.glob("*.whl")] == ["pure-1.0-py3-none-any.whl"]
    assert "pure-Python project" in result.stderr


@pytest.mark.real
def test_jobs_for_other_systems_are_reported_as_skipped_with_the_reason(
    run_hwb, tmp_path: Path
) -> None:
    need("3.12")
    project = c_extension(tmp_path / "cext")
    result = run_hwb(
        "matrix",
        str(project),
        "--python",
        "3.12",
        "--platform",
        "linux,macos,windows",
        "--isolation",
        "venv",
        "-o",
        str(tmp_path / "out"),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    jobs = by_id(report(result))
    assert set(jobs) == {
        "cp312-manylinux_x86_64",
        "cp312-macosx_x86_64",
        "cp312-macosx_arm64",
        "cp312-win_amd64",
    }
    assert jobs["cp312-manylinux_x86_64"]["status"] == "ok"
    assert jobs["cp312-macosx_arm64"]["status"] == "skipped"
    assert (
        jobs["cp312-macosx_arm64"]["error"]
        == "macOS wheels are built on macOS; this machine runs Linux"
    )
    assert (
        jobs["cp312-win_amd64"]["error"]
        == "Windows wheels are built on Windows; this machine runs Linux"
    )
    assert all(Path(job["log"]).is_file() for job in jobs.values())
    assert "cp312-macosx_x86_64, cp312-macosx_arm64: macOS wheels are built on macOS" in result.stderr


def test_another_architecture_without_an_emulating_isolation_is_skipped(run_hwb, tmp_path: Path) -> None:
    need("3.12")
    project = c_extension(tmp_path / "cext")
    result = run_hwb(
        "-p",
        "no:docker",
        "-p",
        "no:podman",
        "matrix",
        str(project),
        "--python",
        "3.12",
        "--arch",
        "aarch64",
        "-o",
        str(tmp_path / "out"),
        "--json",
    )
    assert_clean_error(result, 1)  # nothing could run
    (job,) = report(result)["jobs"]
    assert (job["arch"], job["status"]) == ("aarch64", "skipped")
    assert "needs an isolation that emulates it" in job["error"]
    assert "no installed plugin declares one" in job["error"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "beos"], "unknown platform 'beos'"),
        (["--arch", "sparc"], "unknown linux architecture 'sparc'"),
        (["--isolation", "chroot"], "unknown isolation 'chroot'"),
        (["--python", "3.12", "--python", "three"], "matrix python 'three'"),
        (["--parallel", "0"], "--parallel"),
    ],
)
def test_bad_options_are_one_line_usage_errors(
    run_hwb, tmp_path: Path, args: list[str], message: str
) -> None:
    project = c_extension(tmp_path / "cext")
    result = run_hwb("matrix", str(project), "-o", str(tmp_path / "out"), *args)
    line = assert_clean_error(result, 2)
    assert message in line
    assert not (tmp_path / "out" / ".hwb-logs").exists() or "--parallel" in args


def test_a_bad_exclude_in_pyproject_is_a_configuration_error(run_hwb, tmp_path: Path) -> None:
    project = c_extension(
        tmp_path / "cext",
        tool_hwb="""
        [[tool.hwb.matrix.exclude]]
        python = 3.10
        """,
    )
    line = assert_clean_error(run_hwb("matrix", str(project), "--python", "3.12"), 2)
    assert "matrix.exclude entry 1" in line and 'python = "3.10"' in line


def test_excluding_every_job_is_an_error(run_hwb, tmp_path: Path) -> None:
    need("3.12")
    project = c_extension(
        tmp_path / "cext",
        tool_hwb="""
        [[tool.hwb.matrix.exclude]]
        platform = "linux"
        """,
    )
    line = assert_clean_error(run_hwb("matrix", str(project), "--python", "3.12"), 2)
    assert "the matrix is empty" in line


def test_matrix_takes_the_plugin_options_as_build_does() -> None:
    import rich_click

    from hwb_core import cli
    from hwb_core.plugins import PluginManager

    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    command = cli._make_cli(rich_click, pm).commands["matrix"]
    assert command.hwb_plugin_options == {}
    names = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert {"--isolation", "--no-isolation", "-C", "-v", "-q", "--json", "--fail-fast"} <= names


# --------------------------------------------------------------------------- stopping


def slow_project(root: Path, marker: str) -> Path:
    """A project whose in-tree backend starts a long-sleeping grandchild process."""
    return write_project(
        root,
        {
            "pyproject.toml": """
            [build-system]
            requires = []
            build-backend = "slowbackend"
            backend-path = ["_backend"]

            [project]
            name = "slow"
            version = "0.1"
            """,
            "_backend/slowbackend.py": f"""
            import subprocess, sys
            def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
                subprocess.run([sys.executable, "-c", "import time; time.sleep(300)  # {marker}"])
                raise SystemExit("interrupted")
            """,
            "src/slow/mod.c": "int x;\n",  # an extension project: one job per interpreter
        },
    )


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline and b"sleep" in cmdline:
                found.append(int(entry))
    return found


@pytest.mark.real
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_hwb_stops_every_job_and_removes_their_environments(
    hwb_env: dict[str, str], tmp_path: Path, signum: int
) -> None:
    need("3.11", "3.12", "3.13")
    marker = f"hwb-test-marker-{os.getpid()}-{signum}"
    project = slow_project(tmp_path / "slow", marker)
    # Its own session: the signal reaches hwb alone, never its children, as under a supervisor.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hwb_core",
            "matrix",
            str(project),
            "--python",
            "3.11,3.12,3.13",
            "-j",
            "2",
            "--isolation",
            "venv",
            "-o",
            str(tmp_path / "out"),
            "--json",
        ],
        env=hwb_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while (
            len(processes_with(marker)) < 2 and time.monotonic() < deadline and proc.poll() is None
        ):
            time.sleep(0.1)
        require(len(processes_with(marker)) == 2, "the two slow builds did not start")
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert (
        stderr.rstrip().splitlines()[-1]
        == "error: interrupted; temporary environments were removed"
    )
    jobs = json.loads(stdout)["jobs"]
    assert [job["status"] for job in jobs] == ["skipped"] * 3
    assert sorted(job["error"].split(" (")[0] for job in jobs) == [
        "not started: interrupted",
        "stopped: interrupted",
        "stopped: interrupted",
    ]
    assert processes_with(marker) == []
    assert [p.name for p in Path(hwb_env["TMPDIR"]).iterdir() if p.name.startswith("hwb-")] == []


def test_job_logs_are_readable_by_their_owner_alone(run_hwb: Any, tmp_path: Path) -> None:
    """.hwb-logs was 0755 and each job's log 0644 (the umask's), a log of an earlier run too."""
    import stat

    from tests.plugins.backends import tiny_project

    project = tiny_project(tmp_path / "p")
    out = tmp_path / "out"
    logs = out / ".hwb-logs"
    logs.mkdir(parents=True)
    logs.chmod(0o755)
    (logs / "py3-none-any.log").write_text("an earlier run\n")
    (logs / "py3-none-any.log").chmod(0o644)
    previous = os.umask(0o022)
    try:
        result = run_hwb("matrix", str(project), "--isolation", "venv", "-o", str(out))
        mine = tmp_path / "mine"
        again = run_hwb("matrix", str(project), "--isolation", "venv", "-o", str(out),
                        "--log-dir", str(mine / "logs"))
    finally:
        os.umask(previous)
    assert result.returncode == 0 and again.returncode == 0, result.stderr + again.stderr
    for directory in (logs, mine / "logs"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
        job_logs = list(directory.glob("*.log"))
        assert [p.name for p in job_logs] == ["py3-none-any.log"]
        assert stat.S_IMODE(job_logs[0].stat().st_mode) == 0o600
    assert "an earlier run" not in (logs / "py3-none-any.log").read_text()
