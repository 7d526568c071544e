"""The podman isolation, for real: the docker isolation's hardened, offline build, in podman.

One build serves most tests here: a C extension linking libyaml whose ``setup.py`` also records
what the build saw (network interfaces, capabilities, environment, interpreter) into the wheel.
hwb starts a podman service for the build (no service runs on the test machines) and must stop
it afterwards. The test images are loaded into podman from docker by ``.ci/setup``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_clean_error, json_out, write_project
from tests.docker.support import (
    BUILD_IMAGE,
    YAML_EXTENSION,
    import_in_runtime_image,
    left_containers,
    podman_containers,
    podman_with_images,
    processes_mentioning,
    require_auditwheel_plugin,
    started_service_socket,
    tree_digest,
)

pytestmark = pytest.mark.docker

SECRET = "hwb-host-secret-podman-7a21"

PROBE_SETUP = r'''
import json, os, sys
from setuptools import Extension, setup

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split()[1]

with open("/proc/net/dev") as f:
    interfaces = sorted(line.split(":")[0].strip() for line in f if ":" in line)
record = {
    "interfaces": interfaces,
    "cap_eff": status("CapEff"),
    "cap_bnd": status("CapBnd"),
    "no_new_privs": status("NoNewPrivs"),
    "environ": dict(os.environ),
    "base_prefix": sys.base_prefix,
    "cwd": os.getcwd(),
}
with open(os.path.join("src", "yamlext", "record.json"), "w") as f:
    json.dump(record, f)
setup(
    ext_modules=[Extension("yamlext._yaml", ["src/yamlext/_yaml.c"], libraries=["yaml"])],
    package_dir={"": "src"},
    packages=["yamlext"],
    package_data={"yamlext": ["record.json"]},
)
'''


def probe_project(root: Path, name: str, extra: str = "") -> Path:
    return write_project(root / name, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
        """ + extra,
        "setup.py": PROBE_SETUP,
        "src/yamlext/__init__.py": "from yamlext._yaml import libyaml_version\n",
        "src/yamlext/_yaml.c": YAML_EXTENSION,
    })


@pytest.fixture(scope="module")
def podman_build(tmp_path_factory: pytest.TempPathFactory, hwb_cache: Path) -> dict[str, Any]:
    podman_with_images()
    require_auditwheel_plugin()
    root = tmp_path_factory.mktemp("podman")
    project = probe_project(root, "hwb-podman-yaml")
    before = tree_digest(project)
    tmp = root / "tmp"
    tmp.mkdir()
    env = dict(os.environ, HWB_CACHE_DIR=str(hwb_cache), TMPDIR=str(tmp), HWB_TEST_SECRET=SECRET)
    env.pop("CONTAINER_HOST", None)
    result = subprocess.run(
        [sys.executable, "-m", "hwb_core", "build", str(project), "--isolation", "podman",
         "--image", BUILD_IMAGE, "--python", "3.12", "--json", "-o", str(root / "out")],
        env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = json.loads(result.stdout)["wheels"]
    with zipfile.ZipFile(wheel["path"]) as zf:
        record = json.loads(zf.read("yamlext/record.json"))
        names = zf.namelist()
    return {"wheel": wheel, "names": names, "record": record, "before": before,
            "after": tree_digest(project), "tmp": tmp, "stderr": result.stderr}


@pytest.mark.xdist_group("podman-yaml")
def test_podman_builds_a_repaired_manylinux_wheel_bundling_libyaml(podman_build: dict[str, Any]) -> None:
    wheel = podman_build["wheel"]
    assert wheel["isolation"] == "podman"
    assert wheel["repaired"] and wheel["repairer"] == "auditwheel", wheel
    assert "-cp312-cp312-manylinux" in wheel["filename"]
    assert any(".libs/" in name and "libyaml" in name for name in podman_build["names"])


@pytest.mark.xdist_group("podman-yaml")
def test_the_podman_wheel_imports_where_libyaml_is_absent(podman_build: dict[str, Any]) -> None:
    result = import_in_runtime_image(
        Path(podman_build["wheel"]["path"]), "cp312-cp312",
        "import ctypes.util, yamlext; print(ctypes.util.find_library(\"yaml\"), yamlext.libyaml_version())",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "0.2.5"]


@pytest.mark.xdist_group("podman-yaml")
def test_the_podman_build_is_offline_unprivileged_and_secret_free(podman_build: dict[str, Any]) -> None:
    record = podman_build["record"]
    assert record["interfaces"] == ["lo"]
    assert int(record["cap_eff"], 16) == 0 and int(record["cap_bnd"], 16) == 0
    assert record["no_new_privs"] == "1"
    assert "HWB_TEST_SECRET" not in record["environ"]
    assert SECRET not in json.dumps(record)


@pytest.mark.xdist_group("podman-yaml")
def test_the_podman_build_runs_the_images_interpreter_in_a_copy_of_the_source(
    podman_build: dict[str, Any],
) -> None:
    record = podman_build["record"]
    assert record["base_prefix"] == "/opt/python/cp312-cp312"
    assert record["cwd"] == "/hwb/scratch/src"
    assert podman_build["after"] == podman_build["before"]


@pytest.mark.xdist_group("podman-yaml")
def test_no_container_service_or_socket_is_left_after_a_podman_build(podman_build: dict[str, Any]) -> None:
    assert left_containers(podman_containers, "hwb-podman-yaml") == []
    socket = started_service_socket(podman_build["stderr"])
    assert not socket.parent.exists()
    assert processes_mentioning(str(socket)) == []
    assert list(podman_build["tmp"].iterdir()) == []


def test_no_container_or_service_is_left_after_an_interrupted_podman_build(
    hwb_env: dict[str, str], tmp_path: Path
) -> None:
    podman_with_images()
    name = "hwb-podman-interrupted"
    project = write_project(tmp_path / name, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
        """,
        "setup.py": (
            "import time\n"
            "print('HWB-BUILD-STARTED', flush=True)\n"
            "time.sleep(300)\n"
            "from setuptools import setup\nsetup(py_modules=[])\n"
        ),
    })
    env = dict(hwb_env)
    env.pop("CONTAINER_HOST", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hwb_core", "build", str(project), "--isolation", "podman",
         "--image", BUILD_IMAGE, "--python", "3.12", "-v"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "HWB-BUILD-STARTED" in line:
                break
        assert podman_containers(name), "".join(seen)
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == 130, rest
    finally:
        if proc.poll() is None:
            proc.kill()
    socket = started_service_socket("".join(seen))
    assert podman_containers(name) == []
    assert processes_mentioning(str(socket)) == []
    assert not socket.parent.exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_podman_matrix_builds_each_python_in_containers_of_its_own_and_leaves_nothing(
    run_hwb: Any, hwb_env: dict[str, str], tmp_path: Path
) -> None:
    """Each job builds in a container of its own and tries its wheel in another (docker.md,
    "Matrix jobs share a container": they no longer do); all go when the run ends, and the
    podman service hwb started with them."""
    import time

    podman_with_images()
    name = "hwb-podman-matrix"
    project = write_project(tmp_path / name, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
        """,
        "setup.py": "from setuptools import Extension, setup\n"
                    "setup(ext_modules=[Extension('shared', ['shared.c'])])\n",
        "shared.c": "#include <Python.h>\n"
                    "static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, \"shared\", NULL, -1, NULL};\n"
                    "PyMODINIT_FUNC PyInit_shared(void) { return PyModule_Create(&m); }\n",
    })
    env = {"CONTAINER_HOST": ""}
    # The containers are also watched while they live (podman ps): the engine's events file
    # has been seen to hold none of a run's events when read right after it (CI, once).
    seen: set[str] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            listed = subprocess.run(
                ["podman", "ps", "-a", "--no-trunc", "--filter", f"label=hwb.project={name}",
                 "--format", "{{.ID}}"],
                capture_output=True, text=True, timeout=60, check=False,
            )
            seen.update(listed.stdout.split())
            done.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    started = int(time.time())
    watcher.start()
    try:
        result = run_hwb("matrix", str(project), "--isolation", "podman", "--image", BUILD_IMAGE,
                         "--python", "3.11,3.12", "--parallel", "2", "-o", str(tmp_path / "out"),
                         "--json", "-vv", env=env)
    finally:
        done.set()
        watcher.join()
    finished = int(time.time()) + 1
    assert result.returncode == 0, result.stderr
    jobs = json.loads(result.stdout)["jobs"]
    assert sorted(Path(job["wheel"]).name.split("-")[2] for job in jobs) == ["cp311", "cp312"]
    # Two builds and two test environments. The events file can lag behind a loaded machine:
    # asked again for a few seconds while it holds fewer (a count above 4 fails at once).
    created: set[str] = set()
    for _ in range(20):
        events = subprocess.run(
            ["podman", "events", "--since", str(started), "--until", str(finished),
             "--filter", "event=create", "--filter", f"label=hwb.project={name}", "--format", "{{.ID}}"],
            capture_output=True, text=True, timeout=60, check=True,
        )
        created = set(events.stdout.split()) | seen
        if len(created) >= 4:
            break
        time.sleep(0.5)
    assert len(created) == 4, (created, seen)
    assert left_containers(podman_containers, name) == []
    assert processes_mentioning(hwb_env["TMPDIR"]) == []  # the service hwb started, if it did
    assert [p.name for p in Path(hwb_env["TMPDIR"]).iterdir()] == []


# --------------------------------------------------------------------------- availability


def minimal_project(tmp_path: Path, name: str) -> Path:
    return write_project(tmp_path / name, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
        """,
    })


def test_without_podman_the_check_says_how_to_get_it(run_hwb: Any, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    project = minimal_project(tmp_path, "hwb-podman-missing")
    result = run_hwb("build", str(project), "--isolation", "podman", "--python", "3.12",
                     env={"PATH": str(empty), "CONTAINER_HOST": ""})
    line = assert_clean_error(result, 2)
    assert "cannot use Podman: no podman command on PATH" in line
    assert "apt-get install podman" in line


def test_a_podman_that_does_not_work_is_reported_without_starting_anything(
    run_hwb: Any, tmp_path: Path
) -> None:
    fake = tmp_path / "bin" / "podman"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        f"echo \"$@\" >> {tmp_path}/calls\n"
        "echo 'Error: cannot set up namespaces: operation not permitted' >&2\nexit 125\n"
    )
    fake.chmod(0o755)
    project = minimal_project(tmp_path, "hwb-podman-broken")
    result = run_hwb("build", str(project), "--isolation", "podman", "--python", "3.12",
                     env={"PATH": f"{fake.parent}:{os.environ['PATH']}", "CONTAINER_HOST": ""})
    line = assert_clean_error(result, 2)
    assert "`podman info` failed: Error: cannot set up namespaces" in line
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls and all(call.startswith("info") for call in calls), calls


def test_an_unreachable_container_host_says_so(run_hwb: Any, tmp_path: Path) -> None:
    project = minimal_project(tmp_path, "hwb-podman-no-service")
    result = run_hwb("build", str(project), "--isolation", "podman", "--python", "3.12",
                     env={"CONTAINER_HOST": f"unix://{tmp_path}/podman.sock"})
    line = assert_clean_error(result, 2)
    assert f"cannot use Podman: no Podman engine socket at unix://{tmp_path}/podman.sock" in line
    assert "podman.socket" in line


def test_podman_declares_the_capabilities_of_a_container_isolation(run_hwb: Any) -> None:
    plugins = json_out(run_hwb("plugins", "--json"))
    text = json.dumps(plugins)
    assert "isolation.podman.platform" in text and "isolation.docker.platform" in text


# --------------------------------------------------------------------------- auto


def test_auto_builds_an_extension_in_podman_when_docker_is_blocked(run_hwb: Any, tmp_path: Path) -> None:
    """Needs the kernel's capability-based ``auto`` (it chooses among container isolations by
    their declared capabilities and rank, not by the name docker)."""
    podman_with_images()
    project = probe_project(tmp_path, "hwb-podman-auto",
                            f'\n[tool.hwb.isolation.podman]\nimage = "{BUILD_IMAGE}"\n')
    result = run_hwb("-p", "no:docker", "build", str(project), "--isolation", "auto",
                     "--python", "3.12", "--json", env={"CONTAINER_HOST": ""})
    (wheel,) = json_out(result)["wheels"]
    assert wheel["isolation"] == "podman", result.stderr
    assert "podman" in wheel["isolation_reason"], wheel["isolation_reason"]
    assert "extension" in wheel["isolation_reason"] or "container" in wheel["isolation_reason"]
    assert "-manylinux" in wheel["filename"]
    assert podman_containers("hwb-podman-auto") == []
