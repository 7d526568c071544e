"""Real builds in the docker isolation: a C extension linking libyaml comes out manylinux and
imports where libyaml is absent; several interpreters of one image; an image from a
Dockerfile, reused while unchanged; build requirements with no wheel for the offline container."""

from __future__ import annotations

import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_clean_error, write_project
from tests.docker.support import (
    BUILD_IMAGE,
    built_wheel,
    client_with_images,
    docker_build,
    hwb_containers,
    import_in_runtime_image,
    require_auditwheel_plugin,
    yaml_project,
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def docker_client() -> Any:
    return client_with_images()


# --------------------------------------------------------------------------- libyaml


# Built once for the three tests below (one xdist group keeps them on one worker).
@pytest.fixture(scope="module")
def yaml_wheel(docker_client: Any, tmp_path_factory: pytest.TempPathFactory, hwb_cache: Path) -> dict[str, Any]:
    import os
    import sys

    require_auditwheel_plugin()
    root = tmp_path_factory.mktemp("yaml")
    project = yaml_project(root)
    tmp = root / "tmp"
    tmp.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "hwb_core", "build", str(project), "--isolation", "docker",
         "--image", BUILD_IMAGE, "--python", "3.12", "--json", "-o", str(root / "out")],
        env=dict(os.environ, HWB_CACHE_DIR=str(hwb_cache), TMPDIR=str(tmp)),
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )
    return built_wheel(result)


@pytest.mark.xdist_group("docker-yaml")
def test_a_c_extension_linking_libyaml_comes_out_manylinux(yaml_wheel: dict[str, Any]) -> None:
    assert yaml_wheel["repaired"], yaml_wheel
    assert "-cp312-cp312-manylinux" in yaml_wheel["filename"]
    assert "linux_x86_64" not in yaml_wheel["filename"].replace("manylinux", "")


@pytest.mark.xdist_group("docker-yaml")
def test_the_manylinux_wheel_bundles_libyaml(yaml_wheel: dict[str, Any]) -> None:
    with zipfile.ZipFile(yaml_wheel["path"]) as zf:
        bundled = [name for name in zf.namelist() if ".libs/" in name and "libyaml" in name]
    assert bundled, yaml_wheel


@pytest.mark.xdist_group("docker-yaml")
def test_the_manylinux_wheel_imports_where_libyaml_is_absent(yaml_wheel: dict[str, Any]) -> None:
    result = import_in_runtime_image(
        Path(yaml_wheel["path"]), "cp312-cp312",
        "import ctypes.util, yamlext; print(ctypes.util.find_library(\"yaml\"), yamlext.libyaml_version())",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "0.2.5"]


# --------------------------------------------------------------------------- interpreters


@pytest.mark.parametrize(("python", "tag"), [("3.11", "cp311-cp311"), ("3.12", "cp312-cp312")])
def test_each_interpreter_of_the_image_builds_its_own_wheel(
    docker_client: Any, run_hwb: Any, tmp_path: Path, python: str, tag: str
) -> None:
    project = write_project(tmp_path / f"hwb-ext-{tag}", {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "hwb-ext-{tag}"
            version = "1.0"
        """,
        "setup.py": "from setuptools import Extension, setup\n"
                    "setup(ext_modules=[Extension('fast', ['fast.c'])])\n",
        "fast.c": "#include <Python.h>\n"
                  "static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, \"fast\", NULL, -1, NULL};\n"
                  "PyMODINIT_FUNC PyInit_fast(void) { return PyModule_Create(&m); }\n",
    })
    result = docker_build(run_hwb, project, python=python)
    wheel = built_wheel(result)
    assert f"-{tag}-" in wheel["filename"]
    # What built it is the image's interpreter, not the host's one that asked for it.
    assert wheel["python_path"] == f"/opt/python/{tag}/bin/python"
    assert wheel["python_source"].startswith("image hwb-test/manylinux")
    assert wheel["python"].startswith(python + ".")
    assert f"building hwb-ext-{tag} for Python {python} in docker" in result.stderr
    assert f"the environment's interpreter: CPython {wheel['python']} (/opt/python/{tag}/bin/python)" in result.stderr
    version = import_in_runtime_image(Path(wheel["path"]), tag, "import sys, fast; print(sys.version_info[:2])")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == str(tuple(int(p) for p in python.split(".")))


# --------------------------------------------------------------------------- Dockerfile


def test_an_image_is_built_from_a_dockerfile_and_reused_while_unchanged(
    docker_client: Any, run_hwb: Any, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "hwb-dockerfile-project", {
        "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "hwb-dockerfile-project"
            version = "1.0"

            [tool.hwb.isolation.docker]
            dockerfile = "ci/Dockerfile.build"
        """,
        # The build copies a file that only the custom image has into the wheel.
        "setup.py": """
            import shutil
            from setuptools import setup

            shutil.copy("/etc/hwb-image-marker", "marker.txt")
            setup(py_modules=["marker"], data_files=[("share/hwb", ["marker.txt"])])
        """,
        "marker.py": "",
        "ci/Dockerfile.build": f"""
            FROM {BUILD_IMAGE}
            COPY marker /etc/hwb-image-marker
        """,
        "ci/marker": "first recipe\n",
    })
    first = docker_build(run_hwb, project, image="")
    wheel = built_wheel(first)
    assert "building image hwb-dockerfile/hwb-dockerfile-project:" in first.stderr
    with zipfile.ZipFile(wheel["path"]) as zf:
        marker = next(n for n in zf.namelist() if n.endswith("share/hwb/marker.txt"))
        assert zf.read(marker) == b"first recipe\n"
    tags = {t for image in docker_client.images.list("hwb-dockerfile/hwb-dockerfile-project") for t in image.tags}
    try:
        again = docker_build(run_hwb, project, image="")
        built_wheel(again)
        assert "reusing image hwb-dockerfile/hwb-dockerfile-project:" in again.stderr
        (project / "ci" / "marker").write_text("second recipe\n")
        changed = docker_build(run_hwb, project, image="")
        built_wheel(changed)
        assert "building image" in changed.stderr
        tags_after = {t for image in docker_client.images.list("hwb-dockerfile/hwb-dockerfile-project")
                      for t in image.tags}
        assert len(tags_after - tags) == 1
    finally:
        for image in docker_client.images.list("hwb-dockerfile/hwb-dockerfile-project"):
            docker_client.images.remove(image.id, force=True)
    assert hwb_containers(docker_client, "hwb-dockerfile-project") == []


def test_a_broken_dockerfile_is_a_clean_error(docker_client: Any, run_hwb: Any, tmp_path: Path) -> None:
    project = write_project(tmp_path / "hwb-dockerfile-broken", {
        "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "hwb-dockerfile-broken"
            version = "1.0"
        """,
        "Dockerfile": f"FROM {BUILD_IMAGE}\nRUN exit 3\n",
    })
    result = docker_build(run_hwb, project, "--dockerfile", "Dockerfile", image="")
    line = assert_clean_error(result, 1)
    assert "building the image from Dockerfile failed" in line


# --------------------------------------------------------------------------- offline wheelhouse


def test_a_requirement_without_a_wheel_for_the_container_suggests_network(
    docker_client: Any, run_hwb: Any, tmp_path: Path
) -> None:
    """The container is offline: a requirement available only as an sdist cannot be built in it."""
    links = tmp_path / "links"
    (links / "hwb_sdist_only-1.0").mkdir(parents=True)
    (links / "hwb_sdist_only-1.0" / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: hwb-sdist-only\nVersion: 1.0\n")
    with tarfile.open(links / "hwb_sdist_only-1.0.tar.gz", "w:gz") as tar:
        tar.add(links / "hwb_sdist_only-1.0", arcname="hwb_sdist_only-1.0")
    project = write_project(tmp_path / "hwb-needs-sdist", {
        "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=68", "hwb-sdist-only"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "hwb-needs-sdist"
            version = "1.0"
        """,
    })
    result = docker_build(run_hwb, project, env={"PIP_FIND_LINKS": str(links)})
    line = assert_clean_error(result, 1)
    assert "no wheel of hwb-sdist-only fits the container" in line
    assert "network = true" in line
    assert hwb_containers(docker_client, "hwb-needs-sdist") == []


# --------------------------------------------------------------------------- network = true


def test_with_network_the_container_installs_from_the_index_itself(
    docker_client: Any, run_hwb: Any, tmp_path: Path
) -> None:
    """An index the container reaches over the bridge network (a directory served from this
    machine): the build requirement is fetched by the container, not the host."""
    import functools
    import http.server
    import ipaddress
    import threading

    from tests.conftest import pyenv_python

    served = tmp_path / "index"
    subprocess.run(
        [str(pyenv_python("3.12")), "-m", "pip", "download", "--dest", str(served), "--only-binary=:all:",
         "--no-deps", "setuptools>=68"],
        check=True, capture_output=True, timeout=300,
    )
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), functools.partial(Handler, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ipam = docker_client.api.inspect_network("bridge")["IPAM"]["Config"][0]
    gateway = ipam.get("Gateway") or str(ipaddress.ip_network(ipam["Subnet"]).network_address + 1)
    try:
        project = write_project(tmp_path / "hwb-networked", {
            "pyproject.toml": f"""
                [build-system]
                requires = ["setuptools>=68"]
                build-backend = "setuptools.build_meta"

                [project]
                name = "hwb-networked"
                version = "1.0"

                [tool.hwb.isolation.docker]
                network = true
                env = ["PIP_NO_INDEX=1", "PIP_FIND_LINKS=http://{gateway}:{server.server_port}/",
                       "PIP_TRUSTED_HOST={gateway}"]
            """,
            "setup.py": "import os\nfrom setuptools import setup\n"
                        "open('ifaces.txt', 'w').write(' '.join(sorted(os.listdir('/sys/class/net'))))\n"
                        "setup(py_modules=['m'], data_files=[('share', ['ifaces.txt'])])\n",
            "m.py": "",
        })
        wheel = built_wheel(docker_build(run_hwb, project))
    finally:
        server.shutdown()
    assert any(path.endswith(".whl") and "setuptools" in path for path in requests), requests
    with zipfile.ZipFile(wheel["path"]) as zf:
        interfaces = zf.read(next(n for n in zf.namelist() if n.endswith("share/ifaces.txt"))).decode()
    assert "eth0" in interfaces.split()


# --------------------------------------------------------------------------- in-tree backends


def test_an_in_tree_backend_runs_in_the_container(docker_client: Any, run_hwb: Any, tmp_path: Path) -> None:
    """``backend-path`` names a directory of the project: the hook finds it in the copy."""
    from tests.plugins.backends import tiny_project

    project = tiny_project(tmp_path / "tiny", name="hwb-docker-tiny")
    result = docker_build(run_hwb, project, "-v")
    wheel = built_wheel(result)
    assert wheel["filename"].startswith("hwb_docker_tiny-1.0-")
    assert "downloading" not in result.stderr  # nothing to install, nothing fetched
    with zipfile.ZipFile(wheel["path"]) as zf:
        assert zf.read("hwb_docker_tiny/__init__.py") == b"VALUE = 42\n"


def test_a_backend_that_asks_for_more_builds_in_a_second_driver_process(
    docker_client: Any, run_hwb: Any, tmp_path: Path
) -> None:
    """``build_wheel`` alone, once what the backend asked for is installed, runs in the same
    driver as the first process, from a control directory of the work mount; ``backend-path``
    leads to the backend there too."""
    from tests.plugins.backends import tiny_project

    project = tiny_project(tmp_path / "tiny", name="hwb-docker-asks")
    backend = project / "_backend" / "tiny_backend.py"
    asks = "def get_requires_for_build_wheel(config_settings=None):\n    return "
    backend.write_text(backend.read_text().replace(asks + "[]", asks + "['setuptools>=68']"))
    result = docker_build(run_hwb, project, "-vv")
    wheel = built_wheel(result)
    assert wheel["filename"].startswith("hwb_docker_asks-1.0-")
    backend_runs = [
        line for line in result.stderr.splitlines()
        if line.startswith("$ (container)") and "/hwb/scratch/env/bin/python /" in line
    ]
    assert len(backend_runs) == 2, result.stderr
    for line in backend_runs:
        assert line.split()[3].startswith("/hwb/work/hwb-hooks-"), line
        assert line.split()[3].endswith("/hook_driver.py"), line
    assert "installing what the backend asked for: setuptools>=68" in result.stderr


# --------------------------------------------------------------------------- no host interpreter

NO_FINDERS = {"HWB_DISABLE_PLUGINS": "pyenv,system,uv,pylauncher"}


def test_a_container_build_needs_no_such_interpreter_on_the_host(
    docker_client: Any, run_hwb: Any, tmp_path: Path
) -> None:
    """With every finder blocked the host has no 3.11 or 3.12, but the image does: docker
    builds and matrices use the image's, as cibuildwheel does; a venv build still says none
    was found."""
    project = write_project(tmp_path / "hwb-hostless", {
        "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "hwb-hostless"
            version = "1.0"
        """,
        "setup.py": "from setuptools import Extension, setup\n"
                    "setup(ext_modules=[Extension('fast', ['fast.c'])])\n",
        "fast.c": "#include <Python.h>\n"
                  "static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, \"fast\", NULL, -1, NULL};\n"
                  "PyMODINIT_FUNC PyInit_fast(void) { return PyModule_Create(&m); }\n",
    })
    wheel = built_wheel(docker_build(run_hwb, project, env=NO_FINDERS, python="3.12"))
    assert "-cp312-cp312-manylinux" in wheel["filename"]
    assert wheel["python_path"] == "/opt/python/cp312-cp312/bin/python"

    out = tmp_path / "matrix-out"
    result = run_hwb("matrix", str(project), "--isolation", "docker", "--image", BUILD_IMAGE,
                     "--python", "3.11", "--python", "3.12", "-o", str(out), env=NO_FINDERS)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.glob("*.whl"))
    assert [n.split("-")[2] for n in names] == ["cp311", "cp312"], names

    venv = run_hwb("build", str(project), "--isolation", "venv", "--python", "3.12", env=NO_FINDERS)
    assert venv.returncode == 2 and "no Python matching '3.12' was found" in venv.stderr
