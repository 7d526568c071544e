"""What a build inside the docker isolation can see and touch.

One project, built once for the module: its ``setup.py`` records what the build saw (network
interfaces, capabilities, environment, user, mounts) into a file inside its own tree, which
setuptools then packs into the wheel. Each test checks one property of that record.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_project
from tests.docker.support import (
    BUILD_IMAGE,
    built_wheel,
    client_with_images,
    hwb_containers,
    left_containers,
    tree_digest,
)

# One build serves every test here: keep them on one xdist worker (tox runs --dist loadgroup).
pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-probe")]

SECRET = "hwb-host-secret-4d1f0c"

PROBE_SETUP = r'''
import json, os, sys
from setuptools import setup

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
    "interfaces": interfaces,
    "cap_eff": status("CapEff"),
    "cap_bnd": status("CapBnd"),
    "no_new_privs": status("NoNewPrivs"),
    "uid": os.getuid(),
    "gid": os.getgid(),
    "environ": dict(os.environ),
    "cwd": os.getcwd(),
    "source_mount": writable("/hwb/src"),
    "wheelhouse_mount": writable("/hwb/wheelhouse"),
    "envs_mount": writable("/hwb/envs"),
    "layers_writable": [p for p in sys.path if p.startswith("/hwb/envs/") and os.access(p, os.W_OK)],
    "layers": [p for p in sys.path if p.startswith("/hwb/envs/")],
    "uv_mount": "writable" if os.access("/hwb/bin/uv", os.W_OK) else "read-only",
    "tree": writable("."),
    "mounts": sorted(line.split()[1] for line in open("/proc/self/mounts") if line.split()[1].startswith("/hwb")),
}
# The build writes into its own tree (as setuptools does with egg-info and build/).
with open(os.path.join("src", "probe", "record.json"), "w") as f:
    json.dump(record, f)
setup(package_dir={"": "src"}, packages=["probe"], package_data={"probe": ["record.json"]})
'''


@pytest.fixture(scope="module")
def docker_client() -> Any:
    return client_with_images()


@pytest.fixture(scope="module")
def probe_build(docker_client: Any, tmp_path_factory: pytest.TempPathFactory,
                hwb_cache: Path) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("probe")
    project = write_project(root / "probe", {
        "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "hwb-docker-probe"
            version = "1.0"

            [tool.hwb.isolation.docker]
            env = ["HWB_TEST_PASSED", "HWB_TEST_FIXED=fixed-value"]
        """,
        "setup.py": PROBE_SETUP,
        "src/probe/__init__.py": "",
    })
    before = tree_digest(project)
    tmp = root / "tmp"
    tmp.mkdir()
    env = dict(os.environ, HWB_CACHE_DIR=str(hwb_cache), TMPDIR=str(tmp),
               HWB_TEST_SECRET=SECRET, HWB_TEST_PASSED="passed-value")
    outdir = root / "out"
    result = subprocess.run(
        [sys.executable, "-m", "hwb_core", "build", str(project), "--isolation", "docker",
         "--image", BUILD_IMAGE, "--python", "3.12", "--json", "-o", str(outdir)],
        env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )
    wheel = built_wheel(result)
    with zipfile.ZipFile(wheel["path"]) as zf:
        record = json.loads(zf.read("probe/record.json"))
    return {
        "record": record, "wheel": Path(wheel["path"]), "before": before, "after": tree_digest(project),
        "tmp": tmp, "client": docker_client, "stderr": result.stderr,
    }


def test_the_build_sees_only_the_loopback_interface(probe_build: dict[str, Any]) -> None:
    assert probe_build["record"]["interfaces"] == ["lo"]


def test_the_build_has_no_capabilities(probe_build: dict[str, Any]) -> None:
    record = probe_build["record"]
    assert int(record["cap_eff"], 16) == 0
    assert int(record["cap_bnd"], 16) == 0


def test_the_build_cannot_gain_privileges(probe_build: dict[str, Any]) -> None:
    assert probe_build["record"]["no_new_privs"] == "1"


def test_no_host_secret_reaches_the_build(probe_build: dict[str, Any]) -> None:
    record = probe_build["record"]
    assert "HWB_TEST_SECRET" not in record["environ"]
    assert SECRET not in json.dumps(record)


def test_listed_variables_reach_the_build(probe_build: dict[str, Any]) -> None:
    environ = probe_build["record"]["environ"]
    assert environ["HWB_TEST_PASSED"] == "passed-value"
    assert environ["HWB_TEST_FIXED"] == "fixed-value"


def test_the_build_runs_as_the_invoking_user(probe_build: dict[str, Any]) -> None:
    record = probe_build["record"]
    assert (record["uid"], record["gid"]) == (os.getuid(), os.getgid())
    assert probe_build["wheel"].stat().st_uid == os.getuid()


def test_the_source_is_mounted_read_only_and_built_from_a_writable_copy(probe_build: dict[str, Any]) -> None:
    record = probe_build["record"]
    assert record["source_mount"] == "Read-only file system"
    assert record["tree"] == "writable"
    assert record["cwd"] == "/hwb/scratch/src"


def test_only_the_source_scratch_work_wheelhouse_and_uv_are_mounted(probe_build: dict[str, Any]) -> None:
    assert probe_build["record"]["mounts"] == [
        "/hwb/bin/uv", "/hwb/envs", "/hwb/scratch", "/hwb/src", "/hwb/wheelhouse", "/hwb/work"]


def test_the_hosts_wheelhouse_and_uv_are_read_only(probe_build: dict[str, Any]) -> None:
    """The wheelhouse outlives the build and serves the next ones: a build must not change it."""
    assert probe_build["record"]["wheelhouse_mount"] == "Read-only file system"
    assert probe_build["record"]["uv_mount"] == "read-only"


def test_the_backend_imports_its_requirements_from_a_read_only_prepared_environment(
    probe_build: dict[str, Any],
) -> None:
    """setuptools came from a prepared environment (cache-envs, on by default): on sys.path
    through the build environment's .pth file, and not writable by the build."""
    record = probe_build["record"]
    assert record["envs_mount"] == "Read-only file system"
    assert record["layers"] and record["layers_writable"] == []


def test_a_build_that_writes_into_its_tree_leaves_the_source_byte_identical(
    probe_build: dict[str, Any],
) -> None:
    assert probe_build["after"] == probe_build["before"]


def test_no_container_or_temporary_directory_is_left_after_success(probe_build: dict[str, Any]) -> None:
    assert left_containers(hwb_containers, probe_build["client"], "hwb-docker-probe") == [], (
        probe_build["stderr"]
    )
    assert list(probe_build["tmp"].iterdir()) == []
