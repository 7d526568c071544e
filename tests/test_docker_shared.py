"""``hwb matrix`` jobs in containers of their own (security issue 25: jobs no longer share one
per image), for real: each job builds in a container of its own and tries its wheel in another
(the engine's own ``create`` events, and the container each build saw itself in), every job gets
the hardened, offline, secret-free container of a single build and sees no other job's files,
two jobs at once build correct and distinct wheels, one job's failure (an error, killing every
process of its container, its time limit) does not reach the other, and the containers go away
however the run ends: success, failures, Ctrl-C, and a kill (the next hwb's sweep)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_project
from tests.docker.support import (
    BUILD_IMAGE,
    client_with_images,
    hwb_containers,
    left_containers,
    processes_mentioning,
    tree_digest,
)

# One run serves the first tests here: keep the module on one xdist worker (--dist loadgroup).
pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-shared")]

Run = Callable[..., subprocess.CompletedProcess[str]]

SECRET = "hwb-host-secret-shared-93c2"

EXTENSION = """
#include <Python.h>
static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "_ext", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__ext(void) { return PyModule_Create(&m); }
"""

# What each job's build saw, written into its own tree and so into its wheel: among it the
# container it ran in (its id, in the paths the engine mounts /etc/hostname from) and every build's directory it
# can see in the scratch directory and the source and work mounts.
PROBE_SETUP = r'''
import glob, json, os, re, sys
from setuptools import Extension, setup

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split()[1]

def writable(directory):
    try:
        with open(os.path.join(directory, ".hwb-write-probe"), "w"):
            pass
    except OSError as exc:
        return exc.strerror
    os.remove(os.path.join(directory, ".hwb-write-probe"))
    return "writable"

with open("/proc/net/dev") as f:
    interfaces = sorted(line.split(":")[0].strip() for line in f if ":" in line)
record = {
    "python": list(sys.version_info[:2]),
    "interfaces": interfaces,
    "cap_eff": status("CapEff"),
    "cap_bnd": status("CapBnd"),
    "no_new_privs": status("NoNewPrivs"),
    "uid": os.getuid(),
    "gid": os.getgid(),
    "environ": dict(os.environ),
    "cwd": os.getcwd(),
    "container": sorted(set(re.findall(r"/containers/([0-9a-f]{64})/", open("/proc/self/mountinfo").read()))),
    "builds_seen": sorted(glob.glob("/hwb/scratch/**/setup.py", recursive=True)
                          + glob.glob("/hwb/src/**/setup.py", recursive=True)),
    "work": sorted(os.listdir("/hwb/work")),
    "source_mount": writable("/hwb/src"),
    "wheelhouse_mount": writable("/hwb/wheelhouse"),
    "tree": writable("."),
    "mounts": sorted(line.split()[1] for line in open("/proc/self/mounts") if line.split()[1].startswith("/hwb")),
}
with open(os.path.join("src", "probe", "record.json"), "w") as f:
    json.dump(record, f)
setup(
    ext_modules=[Extension("probe._ext", ["src/probe/_ext.c"])],
    package_dir={"": "src"},
    packages=["probe"],
    package_data={"probe": ["record.json"]},
)
'''


def probe_project(root: Path, name: str) -> Path:
    return write_project(root / name, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"

            [tool.hwb.isolation.docker]
            env = ["HWB_TEST_PASSED"]
        """,
        "setup.py": PROBE_SETUP,
        "src/probe/__init__.py": "",
        "src/probe/_ext.c": EXTENSION,
    })


def scripted_project(root: Path, name: str, on_311: str) -> Path:
    """A C extension whose build runs ``on_311`` (Python code) first when built for 3.11."""
    return write_project(root / name, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
        """,
        "setup.py": "import os, sys, time\n"
                    "if sys.version_info[:2] == (3, 11):\n"
                    f"    {on_311}\n"
                    "from setuptools import Extension, setup\n"
                    "setup(ext_modules=[Extension('_ext', ['_ext.c'])])\n",
        "_ext.c": EXTENSION,
    })


@contextlib.contextmanager
def containers_created(client: Any, project: str) -> Iterator[list[str]]:
    """The ids of the containers the engine creates for ``project`` while the block runs, from
    its event stream, listened to live (the engine keeps only its last 256 events, and every
    ``exec`` makes three)."""
    stream = client.events(
        decode=True,
        filters={"type": "container", "event": "create", "label": [f"hwb.project={project}"]},
    )
    created: list[str] = []

    def listen() -> None:
        try:
            for event in stream:
                created.append(event["id"])
        except Exception:  # the stream closed under it
            pass

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    found: list[str] = []
    try:
        yield found
    finally:
        time.sleep(1)  # the last events reach the stream
        stream.close()
        listener.join(10)
        found.extend(created)


def matrix(client: Any, run_hwb: Run, project: Path, out: Path,
           *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    with containers_created(client, project.name) as created:
        result = run_hwb("matrix", str(project), "--isolation", "docker", "--image", BUILD_IMAGE,
                         "--python", "3.11,3.12", "-o", str(out), "--json", *args)
    return result, created


def jobs_of(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert "Traceback" not in result.stderr, result.stderr
    return {job["id"].split("-")[0]: job for job in json.loads(result.stdout)["jobs"]}


def nothing_left(client: Any, project: str, tmp: Path) -> None:
    assert left_containers(hwb_containers, client, project) == []
    assert [p.name for p in tmp.iterdir() if p.name.startswith("hwb-")] == []


# --------------------------------------------------------------------------- two jobs at once


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory: pytest.TempPathFactory, hwb_cache: Path) -> Iterator[dict[str, Any]]:
    client = client_with_images()
    root = tmp_path_factory.mktemp("shared")
    # Its own name in each process: should two xdist workers both run this fixture, neither
    # must count the other's container.
    name = f"hwb-shared-probe-{os.getpid()}"
    project = probe_project(root, name)
    before = tree_digest(project)
    tmp = root / "tmp"
    tmp.mkdir()
    env = dict(os.environ, HWB_CACHE_DIR=str(hwb_cache), TMPDIR=str(tmp),
               HWB_TEST_SECRET=SECRET, HWB_TEST_PASSED="passed-value")
    env.pop("HWB_DISABLE_PLUGINS", None)
    with containers_created(client, name) as created:
        result = subprocess.run(
            [sys.executable, "-m", "hwb_core", "matrix", str(project), "--isolation", "docker",
             "--image", BUILD_IMAGE, "--python", "3.11,3.12", "--parallel", "2", "--json",
             "-o", str(root / "out")],
            env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
        )
    assert result.returncode == 0, result.stderr
    records = {}
    wheels = {}
    for job in json.loads(result.stdout)["jobs"]:
        assert job["status"] == "ok", job
        wheel = Path(job["wheel"])
        with zipfile.ZipFile(wheel) as zf:
            record = json.loads(zf.read("probe/record.json"))
            names = zf.namelist()
        tag = wheel.name.split("-")[2]
        records[tag], wheels[tag] = record, (wheel, names)
    yield {
        "client": client, "name": name, "records": records, "wheels": wheels, "tmp": tmp, "project": project,
        "before": before, "after": tree_digest(project), "stderr": result.stderr,
        "created": created,
    }


def test_each_job_builds_in_a_container_of_its_own_and_tries_its_wheel_in_another(
    shared_run: dict[str, Any],
) -> None:
    created = shared_run["created"]
    # Two builds and two test environments: four containers, none shared.
    assert len(created) == 4 and len(set(created)) == 4, created
    builds = [record["container"] for record in shared_run["records"].values()]
    assert all(len(ids) == 1 for ids in builds), builds
    assert {ids[0] for ids in builds} < set(created), (builds, created)


def test_two_jobs_build_correct_distinct_wheels(shared_run: dict[str, Any]) -> None:
    records, wheels = shared_run["records"], shared_run["wheels"]
    assert sorted(records) == ["cp311", "cp312"]
    for tag, record in records.items():
        assert record["python"] == [3, int(tag[3:])]
        wheel, names = wheels[tag]
        assert "manylinux" in wheel.name
        assert f"probe/_ext.cpython-{tag[2:]}-x86_64-linux-gnu.so" in names, names


def test_no_job_sees_another_jobs_files(shared_run: dict[str, Any]) -> None:
    """Each build sees its own copy of the project and its own work directory, and nothing of
    the other job's (as in one container, where the jobs saw each other's ``job-N``)."""
    for record in shared_run["records"].values():
        assert record["cwd"] == "/hwb/scratch/src"
        assert record["environ"]["HOME"] == "/hwb/scratch/home"
        assert record["environ"]["VIRTUAL_ENV"] == "/hwb/scratch/env"
        assert record["tree"] == "writable"
        assert record["builds_seen"] == ["/hwb/scratch/src/setup.py", "/hwb/src/setup.py"], record
        # Its own work directory (its wheel, its test's), not the run's directory of them all.
        assert "wheel" in record["work"], record["work"]
        assert [n for n in record["work"] if n.startswith("hwb-build")] == [], record["work"]


def test_every_job_keeps_the_hardening_of_a_single_build(shared_run: dict[str, Any]) -> None:
    for record in shared_run["records"].values():
        assert record["interfaces"] == ["lo"]
        assert int(record["cap_eff"], 16) == 0 and int(record["cap_bnd"], 16) == 0
        assert record["no_new_privs"] == "1"
        assert (record["uid"], record["gid"]) == (os.getuid(), os.getgid())
        assert "HWB_TEST_SECRET" not in record["environ"]
        assert SECRET not in json.dumps(record)
        assert record["environ"]["HWB_TEST_PASSED"] == "passed-value"
        assert record["source_mount"] == "Read-only file system"
        assert record["wheelhouse_mount"] == "Read-only file system"
        assert record["mounts"] == [
            "/hwb/bin/uv", "/hwb/envs", "/hwb/scratch", "/hwb/src", "/hwb/wheelhouse", "/hwb/work"]


def test_the_source_is_untouched_and_nothing_is_left(shared_run: dict[str, Any]) -> None:
    assert shared_run["after"] == shared_run["before"]
    nothing_left(shared_run["client"], shared_run["name"], shared_run["tmp"])


# --------------------------------------------------------------------------- when a job goes wrong
# Each: the 3.11 job goes wrong, the 3.12 job builds beside it (--parallel 2) and is untouched;
# four containers (a build and a test environment per job), none left.


def test_a_failing_job_does_not_stop_the_other(
    run_hwb: Run, hwb_env: dict[str, str], tmp_path: Path
) -> None:
    client = client_with_images()
    project = scripted_project(tmp_path, f"hwb-shared-fails-{os.getpid()}", "sys.exit('this build fails on purpose')")
    result, created = matrix(client, run_hwb, project, tmp_path / "out", "--parallel", "2")
    assert result.returncode == 1, result.stderr
    jobs = jobs_of(result)
    assert jobs["cp311"]["status"] == "failed" and jobs["cp312"]["status"] == "ok", jobs
    assert "this build fails on purpose" in Path(jobs["cp311"]["log"]).read_text()
    assert len(set(created)) == 4, created
    nothing_left(client, f"hwb-shared-fails-{os.getpid()}", Path(hwb_env["TMPDIR"]))


def test_a_job_that_kills_every_process_it_can_does_not_reach_the_other(
    run_hwb: Run, hwb_env: dict[str, str], tmp_path: Path
) -> None:
    """kill(-1) ends every process the build may signal: in one container with the other job,
    the other job's build too; in a container of its own, only its own (its container stops)."""
    client = client_with_images()
    project = scripted_project(tmp_path, f"hwb-shared-killer-{os.getpid()}", "time.sleep(5); os.kill(-1, 9); time.sleep(30)")
    result, created = matrix(client, run_hwb, project, tmp_path / "out", "--parallel", "2")
    assert result.returncode == 1, result.stderr
    jobs = jobs_of(result)
    assert jobs["cp311"]["status"] == "failed" and jobs["cp312"]["status"] == "ok", jobs
    assert len(set(created)) == 4, created
    nothing_left(client, f"hwb-shared-killer-{os.getpid()}", Path(hwb_env["TMPDIR"]))


def test_a_job_past_its_time_limit_is_stopped_and_the_other_goes_on(
    run_hwb: Run, hwb_env: dict[str, str], tmp_path: Path
) -> None:
    client = client_with_images()
    marker = f"hwb-shared-hang-{os.getpid()}"
    project = scripted_project(
        tmp_path, f"hwb-shared-hangs-{os.getpid()}",
        f"import subprocess; subprocess.run(['sh', '-c', 'sleep 3600 # {marker}'])",
    )
    result, created = matrix(client, run_hwb, project, tmp_path / "out", "--parallel", "2",
                             "--timeout", "20")
    assert result.returncode == 1, result.stderr
    jobs = jobs_of(result)
    assert jobs["cp311"]["status"] == "failed", jobs
    assert "ran past the build's time limit of 20 s" in jobs["cp311"]["error"]
    assert jobs["cp312"]["status"] == "ok", jobs
    assert len(set(created)) == 4, created
    assert processes_mentioning(marker) == []
    nothing_left(client, f"hwb-shared-hangs-{os.getpid()}", Path(hwb_env["TMPDIR"]))


# --------------------------------------------------------------------------- stopping the run


def start_slow_matrix(hwb_env: dict[str, str], tmp_path: Path, name: str, marker: str,
                      *args: str) -> subprocess.Popen[str]:
    project = write_project(tmp_path / name, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
        """,
        "setup.py": "import subprocess\n"
                    f"subprocess.run(['sh', '-c', 'sleep 3600 # {marker}'])\n",
        "_ext.c": EXTENSION,
    })
    proc = subprocess.Popen(
        [sys.executable, "-m", "hwb_core", "matrix", str(project), "--isolation", "docker",
         "--image", BUILD_IMAGE, "--python", "3.11,3.12", "--parallel", "2", "-o", str(tmp_path / "out"),
         *args],
        env=hwb_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL, start_new_session=True,
        # A shell's background job ignores SIGINT, and a child inherits that: restore it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 180
    while len(processes_mentioning(marker)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    if len(processes_mentioning(marker)) < 2:
        proc.kill()
        raise AssertionError(f"the two slow builds did not start: {proc.communicate()[1][-3000:]}")
    return proc


def test_ctrl_c_stops_the_builds_in_containers_and_removes_them(
    hwb_env: dict[str, str], tmp_path: Path
) -> None:
    """No signal to hwb's children reaches a command in a container: the run stops the
    containers themselves."""
    client = client_with_images()
    marker = f"hwb-shared-interrupted-{os.getpid()}"
    proc = start_slow_matrix(hwb_env, tmp_path, f"hwb-shared-interrupted-{os.getpid()}", marker)
    try:
        # Both builds, and their test environments (made while they build), a container each.
        running = hwb_containers(client, f"hwb-shared-interrupted-{os.getpid()}")
        assert len(running) == 4, running
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert processes_mentioning(marker) == []
    nothing_left(client, f"hwb-shared-interrupted-{os.getpid()}", Path(hwb_env["TMPDIR"]))


def test_the_next_hwb_removes_the_containers_of_a_killed_run(
    run_hwb: Run, hwb_env: dict[str, str], tmp_path: Path
) -> None:
    client = client_with_images()
    marker = f"hwb-shared-killed-{os.getpid()}"
    proc = start_slow_matrix(hwb_env, tmp_path, f"hwb-shared-killed-{os.getpid()}", marker)
    proc.kill()  # SIGKILL: hwb cleans nothing up
    proc.communicate()
    left = hwb_containers(client, f"hwb-shared-killed-{os.getpid()}")
    assert len(left) == 4, left
    for container in left:
        assert container.labels["hwb.pid"] == str(proc.pid)
        assert "hwb.shared" not in container.labels
    # Any container build sweeps what a dead hwb left.
    other = scripted_project(tmp_path, "hwb-shared-sweeper", "pass")
    result = run_hwb("build", str(other), "--isolation", "docker", "--image", BUILD_IMAGE,
                     "--python", "3.12", "-o", str(tmp_path / "out2"))
    assert result.returncode == 0, result.stderr
    assert left_containers(hwb_containers, client, f"hwb-shared-killed-{os.getpid()}") == []
    assert processes_mentioning(marker) == []
