"""The build container's life: limits and GPU requests reach the engine, a build past its
memory limit fails cleanly, and no container outlives a build (success, failure, Ctrl-C,
SIGTERM). Plus the troubleshooting messages: missing image, unreachable daemon."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_clean_error, json_out, write_project
from tests.docker.support import (
    BUILD_IMAGE,
    client_with_images,
    docker_build,
    hwb_containers,
    kept_container,
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def docker_client() -> Any:
    return client_with_images()


def setuptools_project(root: Path, name: str, setup_body: str = "", table: str = "") -> Path:
    """A one-module setuptools project; ``setup_body`` runs in setup.py before ``setup()``."""
    return write_project(root / name, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
            {table}
        """,
        "setup.py": "from setuptools import setup\n" + setup_body + "\nsetup(py_modules=['mod'])\n",
        "mod.py": "",
    })


def ext_project(root: Path, name: str, table: str = "") -> Path:
    """A setuptools project with one C extension module (what ``auto`` sends to docker)."""
    return write_project(root / "ext", {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
        """ + "".join(f"            {line}\n" for line in table.splitlines()),
        "setup.py": "from setuptools import Extension, setup\n"
                    "setup(ext_modules=[Extension('fast', ['fast.c'])])\n",
        "fast.c": "#include <Python.h>\n"
                  "static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, \"fast\", NULL, -1, NULL};\n"
                  "PyMODINIT_FUNC PyInit_fast(void) { return PyModule_Create(&m); }\n",
    })


def remove(client: Any, container_id: str) -> None:
    client.api.remove_container(container_id, force=True)


# --------------------------------------------------------------------------- limits


def test_memory_cpu_and_hardening_reach_the_engine(docker_client: Any, run_hwb: Any, tmp_path: Path) -> None:
    project = setuptools_project(tmp_path, "hwb-docker-limits")
    result = docker_build(run_hwb, project, "--memory", "384m", "--cpus", "1.5", "--keep-container")
    json_out(result)
    container_id = kept_container(result.stderr)
    try:
        host = docker_client.api.inspect_container(container_id)["HostConfig"]
    finally:
        remove(docker_client, container_id)
    assert host["Memory"] == 384 * 1024**2
    assert host["MemorySwap"] == 384 * 1024**2
    assert host["NanoCpus"] == 1_500_000_000
    assert host["PidsLimit"] == 4096
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["NetworkMode"] == "none"


def test_a_build_past_its_memory_limit_fails_cleanly(docker_client: Any, run_hwb: Any, tmp_path: Path) -> None:
    greedy = "hog = b'x' * (1 << 30)\n"  # setup.py runs only in the backend, in the container
    project = setuptools_project(tmp_path, "hwb-docker-greedy", greedy)
    result = docker_build(run_hwb, project, "--memory", "256m")
    line = assert_clean_error(result, 1)
    assert "ran out of memory (limit 256m)" in line
    assert "--memory" in line
    assert hwb_containers(docker_client, "hwb-docker-greedy") == []


def test_gpu_requests_reach_the_engine(docker_client: Any, run_hwb: Any, tmp_path: Path) -> None:
    """No GPU here: the engine accepts the container, then refuses to start it. The kept
    container shows what the engine was asked for."""
    project = setuptools_project(tmp_path, "hwb-docker-gpu", table="""
            [tool.hwb.isolation.docker]
            gpu = true
            gpu-devices = ["0", "1"]
    """)
    result = docker_build(run_hwb, project, "--keep-container")
    container_id = kept_container(result.stderr)
    try:
        requests = docker_client.api.inspect_container(container_id)["HostConfig"]["DeviceRequests"]
    finally:
        remove(docker_client, container_id)
    assert requests == [
        {"Driver": "nvidia", "Count": 0, "DeviceIDs": ["0", "1"], "Capabilities": [["gpu"]], "Options": {}}
    ]
    line = assert_clean_error(result, 1)
    assert "GPU" in line and "NVIDIA Container Toolkit" in line


def test_gpu_without_devices_asks_for_all_of_them(docker_client: Any, run_hwb: Any, tmp_path: Path) -> None:
    project = setuptools_project(tmp_path, "hwb-docker-gpu-all")
    result = docker_build(run_hwb, project, "--gpu", "--keep-container")
    container_id = kept_container(result.stderr)
    try:
        requests = docker_client.api.inspect_container(container_id)["HostConfig"]["DeviceRequests"]
    finally:
        remove(docker_client, container_id)
    assert requests[0]["Count"] == -1 and requests[0]["Capabilities"] == [["gpu"]]


# --------------------------------------------------------------------------- cleanup


def test_no_container_is_left_after_a_failed_build(docker_client: Any, run_hwb: Any, tmp_path: Path) -> None:
    project = setuptools_project(tmp_path, "hwb-docker-broken", "raise SystemExit('broken on purpose')\n")
    result = docker_build(run_hwb, project)
    assert "broken on purpose" in result.stderr
    assert_clean_error(result, 1)
    assert hwb_containers(docker_client, "hwb-docker-broken") == []
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_no_container_is_left_after_an_interrupt(
    docker_client: Any, hwb_env: dict[str, str], tmp_path: Path, signum: int
) -> None:
    name = f"hwb-docker-interrupted-{signum}"
    slow = (
        "import time\n"
        "print('HWB-BUILD-STARTED', flush=True)\n"
        "time.sleep(300)\n"
    )
    project = setuptools_project(tmp_path, name, slow)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hwb_core", "build", str(project), "--isolation", "docker",
         "--image", BUILD_IMAGE, "--python", "3.12", "-v"],
        env=hwb_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:  # the backend is running inside the container
            seen.append(line)
            if "HWB-BUILD-STARTED" in line:
                break
        assert hwb_containers(docker_client, name), "".join(seen)
        proc.send_signal(signum)
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == 130, rest
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "interrupted" in rest
    assert hwb_containers(docker_client, name) == []
    assert list((tmp_path / "tmp").iterdir()) == []


def test_containers_of_a_killed_hwb_are_removed_by_the_next_build(
    docker_client: Any, run_hwb: Any, tmp_path: Path
) -> None:
    """A SIGKILL leaves no chance to clean up: the next docker build does it."""
    orphan = docker_client.containers.create(
        BUILD_IMAGE, ["sleep", "infinity"],
        labels={"hwb": "1", "hwb.project": "hwb-docker-orphan", "hwb.host": os.uname().nodename,
                "hwb.pid": "999999999", "hwb.keep": "0"},
    )
    project = setuptools_project(tmp_path, "hwb-docker-after-orphan")
    json_out(docker_build(run_hwb, project))
    assert hwb_containers(docker_client, "hwb-docker-orphan") == []
    del orphan


# --------------------------------------------------------------------------- troubleshooting


def test_a_missing_image_that_cannot_be_pulled_is_a_clean_error(
    docker_client: Any, run_hwb: Any, tmp_path: Path
) -> None:
    project = setuptools_project(tmp_path, "hwb-docker-no-image")
    result = docker_build(run_hwb, project, image="hwb-test/no-such-image:1")
    line = assert_clean_error(result, 1)
    assert "cannot pull image hwb-test/no-such-image:1" in line
    assert "docker pull" in line
    assert hwb_containers(docker_client, "hwb-docker-no-image") == []


def test_auto_falls_back_to_venv_when_its_docker_image_cannot_be_had(
    docker_client: Any, run_hwb: Any, tmp_path: Path
) -> None:
    """The engine answers, so docker passes its check, but the image is neither here nor
    pullable (no network): auto builds in venv and says why, as when no engine runs."""
    project = ext_project(tmp_path, "hwb-docker-auto-fallback")
    # podman blocked: it would be the next container isolation to try (tests/test_podman.py).
    result = run_hwb("-p", "no:podman", "build", str(project), "--image", "hwb-test/no-such-image:1",
                     "--python", "3.12", "--json", env={"HWB_ISOLATION_DOCKER_PULL": "never"})
    assert result.returncode == 0, result.stderr
    (wheel,) = json.loads(result.stdout)["wheels"]
    assert wheel["isolation"] == "venv"
    assert "fallback: docker unavailable" in wheel["isolation_reason"]
    warning = next(line for line in result.stderr.splitlines() if line.startswith("warning: auto chose docker"))
    assert "hwb-test/no-such-image:1" in warning
    assert hwb_containers(docker_client, "hwb-docker-auto-fallback") == []


def test_a_missing_image_with_pulling_off_says_so(docker_client: Any, run_hwb: Any, tmp_path: Path) -> None:
    project = setuptools_project(tmp_path, "hwb-docker-no-pull")
    result = docker_build(run_hwb, project, image="hwb-test/no-such-image:1",
                          env={"HWB_ISOLATION_DOCKER_PULL": "never"})
    line = assert_clean_error(result, 1)
    assert "is not on this machine" in line and 'pull = "never"' in line


def test_an_image_without_the_interpreter_lists_those_it_has(
    docker_client: Any, run_hwb: Any, tmp_path: Path
) -> None:
    project = setuptools_project(tmp_path, "hwb-docker-no-python")
    result = docker_build(run_hwb, project, python="3.13")
    line = assert_clean_error(result, 1)
    assert "no /opt/python/cp313-cp313" in line
    assert "cp311-cp311 (CPython 3.11), cp312-cp312 (CPython 3.12)" in line
    assert hwb_containers(docker_client, "hwb-docker-no-python") == []


def test_an_unreachable_daemon_says_how_to_start_it(run_hwb: Any, tmp_path: Path) -> None:
    project = setuptools_project(tmp_path, "hwb-docker-no-daemon")
    result = docker_build(run_hwb, project, env={"DOCKER_HOST": f"unix://{tmp_path}/docker.sock"})
    line = assert_clean_error(result, 2)
    assert "no Docker engine socket" in line
    assert "systemctl start docker" in line


def test_auto_builds_extensions_in_docker_when_an_engine_answers(
    docker_client: Any, run_hwb: Any, tmp_path: Path
) -> None:
    project = ext_project(tmp_path, "hwb-docker-auto", "[tool.hwb.isolation.docker]\nimage = \"hwb-test/manylinux:latest\"")
    wheel = json_out(run_hwb("build", str(project), "--python", "3.12", "--json"))["wheels"][0]
    assert wheel["isolation"] == "docker"
    assert "cp312-cp312-" in wheel["filename"]


def test_auto_falls_back_to_venv_when_no_engine_answers(run_hwb: Any, tmp_path: Path) -> None:
    project = ext_project(tmp_path, "hwb-docker-fallback")
    result = run_hwb("-p", "no:podman", "build", str(project), "--python", "3.12", "--json",
                     env={"DOCKER_HOST": f"unix://{tmp_path}/docker.sock"})
    wheel = json_out(result)["wheels"][0]
    assert wheel["isolation"] == "venv"
    assert "auto chose docker, but it cannot run here" in result.stderr
    assert "no Docker engine socket" in result.stderr
