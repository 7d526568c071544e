"""``--timeout``: a build that runs too long is stopped, its processes (or its container) with
it, nothing is left behind, and hwb exits 124 saying which step ran out of time (issue 11)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_clean_error, write_project
from tests.plugins.backends import tiny_project

EXIT_TIMEOUT = 124


def hanging_project(root: Path, pid_file: Path | None, name: str = "hangs") -> Path:
    """A backend whose build_wheel starts a grandchild and then hangs, noting both pids (when
    ``pid_file`` is given: a host path, not for containers)."""
    note = (
        f"with open({str(pid_file)!r}, 'w') as stream:\n"
        "                    stream.write(f'{os.getpid()} {child.pid}')"
        if pid_file
        else "pass"
    )
    return write_project(root, {
        "pyproject.toml": f"""
            [build-system]
            requires = []
            build-backend = "hanging_backend"
            backend-path = ["."]

            [project]
            name = "{name}"
            version = "1.0"
            """,
        "hanging_backend.py": f"""
            import os, subprocess, sys, time

            def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
                child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
                {note}
                print("compiling forever", flush=True)
                time.sleep(600)
            """,
    })


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("how", ["option", "key"])
def test_a_hanging_backend_is_stopped_at_the_limit(
    run_hwb: Any, tmp_path: Path, hwb_env: dict[str, str], how: str
) -> None:
    pids = tmp_path / "pids"
    project = hanging_project(tmp_path / "p", pids)
    args: tuple[str, ...] = ("--timeout", "3")
    env = {}
    if how == "key":
        args, env = (), {"HWB_TIMEOUT": "3"}
    started = time.monotonic()
    result = run_hwb("build", str(project), "--isolation", "venv", *args, env=env, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == EXIT_TIMEOUT, result.stderr
    assert elapsed < 3 + 10, elapsed
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "error: the build backend 'hanging_backend' (in build_wheel) ran past the build's time "
        "limit of 3 s and was stopped; raise it with --timeout SECONDS"
    ), result.stderr
    assert "Traceback" not in result.stderr
    for pid in map(int, pids.read_text().split()):
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(pid), f"process {pid} outlived the timeout"
    assert list(Path(hwb_env["TMPDIR"]).glob("hwb-*")) == []
    assert not (project / "dist").exists() or not list((project / "dist").iterdir())


@pytest.mark.parametrize("command", ["build", "matrix"])
@pytest.mark.parametrize("how", ["option", "variable", "key"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [("-1", "0 or more"), ("nan", "a finite number"), ("inf", "a finite number")],
)
def test_an_impossible_timeout_is_a_usage_error_before_anything_runs(
    run_hwb: Any, tmp_path: Path, command: str, how: str, value: str, expected: str
) -> None:
    """Before: nan stopped the first command at once (exit 124), inf ran with no limit after
    three OverflowError tracebacks (exit 0), and hwb matrix failed each job on -1 (exit 1)."""
    pids = tmp_path / "pids"
    project = hanging_project(tmp_path / "p", pids)
    args: tuple[str, ...] = ()
    env = {}
    if how == "option":
        args = ("--timeout", value)
    elif how == "variable":
        env = {"HWB_TIMEOUT": value}
    else:
        toml = {"-1": "-1", "nan": "nan", "inf": "inf"}[value]
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + f"\n[tool.hwb]\ntimeout = {toml}\n")
    result = run_hwb(command, str(project), "--isolation", "venv", *args, env=env, timeout=120)
    error = assert_clean_error(result, 2)
    where = {"option": "command line", "variable": "HWB_TIMEOUT", "key": "[tool.hwb]"}[how]
    assert error.startswith(f"error: timeout in {where}"), error
    assert f"must be {expected}, not " in error and "(0: no limit)" in error, error
    assert not pids.exists()  # the backend never started


@pytest.mark.parametrize("command", ["build", "matrix"])
def test_a_limit_no_timer_can_wait_for_is_no_limit(
    run_hwb: Any, tmp_path: Path, command: str
) -> None:
    """1e10 s is past threading.TIMEOUT_MAX: each command's timer raised OverflowError."""
    project = tiny_project(tmp_path / "p")
    out = tmp_path / "out"
    result = run_hwb(
        command, str(project), "--isolation", "venv", "--timeout", "1e10", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "OverflowError" not in result.stderr
    assert len(list(out.glob("tiny-1.0-*.whl"))) == 1


def test_matrix_applies_the_limit_to_each_job(run_hwb: Any, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    project = hanging_project(tmp_path / "p", pids)
    result = run_hwb(
        "matrix", str(project), "--python", sys.executable, "--isolation", "venv",
        "--timeout", "3", "--json", "-o", str(tmp_path / "out"), timeout=120,
    )
    assert result.returncode == 1, result.stderr
    (job,) = json.loads(result.stdout)["jobs"]
    assert job["status"] == "failed"
    assert "ran past the build's time limit of 3 s" in job["error"]
    for pid in map(int, pids.read_text().split()):
        deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(pid)
    assert os.path.isdir(tmp_path / "out")


@pytest.mark.docker
def test_a_hanging_backend_in_a_container_is_stopped_with_its_container(
    run_hwb: Any, tmp_path: Path
) -> None:
    from tests.docker.support import BUILD_IMAGE, client_with_images, hwb_containers

    client = client_with_images()
    project = hanging_project(tmp_path / "p", None, name="hangs-in-docker")
    started = time.monotonic()
    result = run_hwb(
        "build", str(project), "--isolation", "docker", "--image", BUILD_IMAGE,
        "--python", "3.12", "--timeout", "8", timeout=300,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == EXIT_TIMEOUT, result.stderr
    assert elapsed < 8 + 30, elapsed
    assert "ran past the build's time limit of 8 s" in result.stderr.strip().splitlines()[-1]
    assert hwb_containers(client, "hangs-in-docker") == []


@pytest.fixture
def silent_index() -> Any:
    """The URL of a package index that takes connections and never answers."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []

    def hold() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=hold, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/simple"
    server.close()
    for connection in held:
        connection.close()


def test_the_limit_reached_while_installing_build_requirements_says_so(
    run_hwb: Any, tmp_path: Path, silent_index: str
) -> None:
    """The venv isolation wrapped the stopped installer in "could not install build
    requirements ... check the names" (exit 1)."""
    project = tiny_project(tmp_path / "p")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("requires = []", 'requires = ["hwb-never-answered"]')
    )
    index = {"UV_INDEX_URL": silent_index, "UV_DEFAULT_INDEX": silent_index,
             "PIP_INDEX_URL": silent_index}
    result = run_hwb(
        "build", str(project), "--isolation", "venv", "--timeout", "4", env=index, timeout=120
    )
    error = assert_clean_error(result, EXIT_TIMEOUT)
    assert "ran past the build's time limit of 4 s and was stopped" in error, error
    assert "could not install" not in result.stderr


@pytest.mark.docker
def test_the_limit_reached_while_preparing_a_container_environment_says_so(
    run_hwb: Any, tmp_path: Path
) -> None:
    """The container isolations wrapped it in "could not prepare a build environment" (exit
    1). The image's interpreter hangs in the environment being prepared (its sitecustomize
    sleeps there), so the limit is reached in that step."""
    from tests.docker.support import BUILD_IMAGE, client_with_images, hwb_containers

    client = client_with_images()
    name = "hwb-slow-layer"
    project = write_project(tmp_path / name, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"

            [tool.hwb.isolation.docker]
            dockerfile = "ci/Dockerfile"
            """,
        "ci/Dockerfile": f"""
            FROM {BUILD_IMAGE}
            COPY sitecustomize.py /opt/python/cp312-cp312/lib/python3.12/sitecustomize.py
            """,
        "ci/sitecustomize.py": """
            import sys, time
            if sys.prefix.startswith("/hwb/envs/"):
                time.sleep(600)
            """,
    })
    try:
        result = run_hwb(
            "build", str(project), "--isolation", "docker", "--image", "", "--python", "3.12",
            "--timeout", "10", timeout=300,
        )
    finally:
        for image in client.images.list(f"hwb-dockerfile/{name}"):
            client.images.remove(image.id, force=True)
    error = assert_clean_error(result, EXIT_TIMEOUT)
    assert "preparing a build environment for setuptools>=68" in result.stderr
    assert "ran past the build's time limit of 10 s and was stopped" in error, error
    assert "could not prepare" not in result.stderr
    assert hwb_containers(client, name) == []


# --------------------------------------------------------------------------- the watchdog plugin
# An isolation that runs its commands itself, not through hwb.process (issue 22, item 8).

SELF_RUN_ISOLATION = '''
"""A third party's isolation: the backend runs under the build's interpreter, started with a
plain subprocess.run, which knows nothing of the build's time limit."""
import contextlib, os, subprocess

from hwb import BuildEnv, BuildError, IsolationInfo, RunResult, hookimpl


class SelfRunEnv(BuildEnv):
    isolation = "selfrun"

    @property
    def python_executable(self):
        return self.python.path

    def install(self, requirements):
        if requirements:
            raise BuildError("selfrun installs nothing")

    def run(self, cmd, *, cwd=None, extra_env=None, check=True):
        done = subprocess.run(
            list(cmd), cwd=cwd or self.source_dir, env={**os.environ, **(extra_env or {})},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        if check and done.returncode:
            raise BuildError(f"{cmd[0]} failed (exit code {done.returncode})")
        return RunResult(done.returncode, done.stdout)


@hookimpl
def register_isolation():
    return IsolationInfo("selfrun", "plain subprocess.run (test plugin)")


@hookimpl
def create_env(isolation, request):
    return _env(request) if isolation == "selfrun" else None


@contextlib.contextmanager
def _env(request):
    try:
        yield SelfRunEnv(
            python=request.python, source_dir=request.project.root, reporter=request.reporter
        )
    finally:
        with open(os.environ["SELFRUN_CLEANED"], "w") as stream:
            stream.write("removed")
'''


def test_an_isolation_that_runs_commands_itself_is_stopped_by_the_watchdog(
    run_hwb: Any, tmp_path: Path, hwb_env: dict[str, str]
) -> None:
    """Before the watchdog plugin, the build waited for the backend's 600 s."""
    pids, cleaned = tmp_path / "pids", tmp_path / "cleaned"
    project = hanging_project(tmp_path / "p", pids)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.hwb]\nplugins = ["selfrun"]\n')
    (project / "selfrun.py").write_text(SELF_RUN_ISOLATION)
    started = time.monotonic()
    result = run_hwb(
        "build", str(project), "--isolation", "selfrun", "--timeout", "1",
        env={"SELFRUN_CLEANED": str(cleaned)}, timeout=120,
    )
    elapsed = time.monotonic() - started
    error = assert_clean_error(result, EXIT_TIMEOUT)
    python = os.path.basename(sys.executable)[:15]  # the backend's, as the kernel names it
    assert error.startswith(
        f"error: {python}, run by isolation 'selfrun', ran past the build's time limit of 1 s "
        "and was stopped; raise it with --timeout SECONDS"
    ), result.stderr
    assert elapsed < 1 + 15, elapsed  # the limit, the watchdog's grace, hwb's own start
    for pid in map(int, pids.read_text().split()):  # the backend and the child it started
        assert not alive(pid), f"process {pid} outlived the timeout"
    assert cleaned.read_text() == "removed"  # the isolation's own clean-up ran
    assert list(Path(hwb_env["TMPDIR"]).glob("hwb-*")) == []


def test_the_watchdog_stops_what_its_own_thread_started_and_nothing_else() -> None:
    """As in hwb matrix, one build per thread: the limit of one stops only its own
    processes, not what its environment's making left running (a service its clean-up
    needs), and no timer thread is left behind."""
    import signal
    import subprocess
    import threading

    from hwb_plugins.watchdog import Watch

    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    made, other_started = threading.Event(), threading.Event()
    other_job: list[subprocess.Popen[bytes]] = []
    outcome: dict[str, Any] = {}

    def job() -> None:
        watch = Watch(1.5)
        service = subprocess.Popen(sleeper)
        watch.made()
        made.set()
        other_started.wait(10)  # another job's command, started meanwhile by another thread
        proc = subprocess.Popen(sleeper)
        outcome["returncode"] = proc.wait(timeout=30)
        watch.end()
        outcome["fired"], outcome["stopped"] = watch.fired, watch.stopped
        outcome["service"] = service.poll()
        service.kill()
        service.wait()

    thread = threading.Thread(target=job)
    thread.start()
    try:
        made.wait(10)
        other_job.append(subprocess.Popen(sleeper))
        other_started.set()
        thread.join(40)
        name = os.path.basename(sys.executable)[:15]
        assert outcome == {
            "returncode": -signal.SIGTERM, "fired": True, "stopped": [name], "service": None
        }
        assert other_job[0].poll() is None
        in_time = Watch(60)
        in_time.end()
        assert not in_time.fired and other_job[0].poll() is None
        assert [t for t in threading.enumerate() if t.name == "hwb-watchdog"] == []
    finally:
        other_started.set()
        thread.join(40)
        for proc in other_job:
            proc.kill()
            proc.wait()
