"""What the docker tests share: the test images (made by ``tests/docker/make_images.sh``, run
by ``.ci/setup``), the engine, and looking for containers a build left behind."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import require, write_project

BUILD_IMAGE = "hwb-test/manylinux:latest"
"""Debian bookworm with gcc, libyaml-dev and /opt/python/cp311-cp311, cp312-cp312."""
RUNTIME_IMAGE = "hwb-test/runtime:latest"
"""The same without libyaml."""
DOCKER = "/usr/bin/docker"
MAKE_IMAGES = "tests/docker/make_images.sh"


def engine() -> Any:
    """A client for the engine, or skip (locally) / fail (CI) when none answers."""
    try:
        import docker

        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:  # no SDK, no socket, no daemon
        require(False, f"no Docker engine answers ({type(exc).__name__}); run .ci/setup")
        raise
    return client


def client_with_images() -> Any:
    """The engine, with the test images on it (else skip, or fail in CI)."""
    client = engine()
    for image in (BUILD_IMAGE, RUNTIME_IMAGE):
        try:
            client.images.get(image)
        except Exception:
            require(False, f"test image {image} is missing; run {MAKE_IMAGES}")
    return client


def hwb_containers(client: Any, project_name: str) -> list[Any]:
    """Containers hwb made for ``project_name`` (running or not)."""
    return list(client.containers.list(all=True, filters={"label": ["hwb=1", f"hwb.project={project_name}"]}))


def left_containers(listing: Any, *args: Any, settle: float = 10.0) -> list[str]:
    """What ``listing(*args)`` still finds after up to ``settle`` seconds, described (state,
    creation time, the hwb process that made it). Under the load of the whole suite an engine
    may list a container for a moment after its removal was answered; a container still there
    after that is a leak."""
    import time

    deadline = time.monotonic() + settle
    found = listing(*args)
    while found and time.monotonic() < deadline:
        time.sleep(0.5)
        found = listing(*args)
    described = []
    for item in found:
        attrs = getattr(item, "attrs", None)
        if attrs:
            labels = attrs.get("Config", {}).get("Labels", {})
            described.append(f"{item.short_id} {attrs.get('State', {}).get('Status')} "
                             f"created {attrs.get('Created')} by hwb pid {labels.get('hwb.pid')}")
        else:
            described.append(str(item))
    return described


def docker_build(run_hwb: Any, project: Path, *args: str, env: dict[str, str] | None = None,
                 image: str = BUILD_IMAGE, python: str = "3.12") -> subprocess.CompletedProcess[str]:
    """``hwb build --isolation docker --image IMAGE --python 3.12 --json PROJECT ARGS``."""
    extra = ["--image", image] if image else []
    return run_hwb("build", str(project), "--isolation", "docker", *extra, "--python", python,
                   "--json", *args, env=env)


def built_wheel(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    wheels: list[dict[str, Any]] = json.loads(result.stdout)["wheels"]
    assert len(wheels) == 1
    return wheels[0]


def kept_container(stderr: str) -> str:
    """The id ``--keep-container`` printed."""
    import re

    match = re.search(r"kept build container ([0-9a-f]{12})", stderr)
    assert match, stderr
    return match.group(1)


def tree_digest(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``root`` with its mode and content (to prove a tree unchanged)."""
    return {
        str(path.relative_to(root)): (path.stat().st_mode, path.read_bytes())
        for path in sorted(root.rglob("*")) if path.is_file() or path.is_symlink()
    } | {str(p.relative_to(root)) + "/": (p.stat().st_mode, b"") for p in root.rglob("*") if p.is_dir()}


def require_auditwheel_plugin() -> None:
    """Repair in the container is the auditwheel plugin's job: the wheels of these tests are
    only portable when it is installed (in CI it must be)."""
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="hwb")}
    require("auditwheel" in names, "the auditwheel repair plugin (entry point hwb:auditwheel) is not installed")


# --------------------------------------------------------------------------- a C extension linking libyaml

YAML_EXTENSION = """
#include <Python.h>
#include <yaml.h>

static PyObject *libyaml_version(PyObject *self, PyObject *unused) {
    return PyUnicode_FromString(yaml_get_version_string());
}

static PyMethodDef methods[] = {
    {"libyaml_version", libyaml_version, METH_NOARGS, "The version of the libyaml linked in."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_yaml", NULL, -1, methods};

PyMODINIT_FUNC PyInit__yaml(void) { return PyModule_Create(&module); }
"""


def yaml_project(root: Path, name: str = "hwb-yaml-ext") -> Path:
    return write_project(root / name, {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
        """,
        "setup.py": """
            from setuptools import Extension, setup

            setup(
                ext_modules=[Extension("yamlext._yaml", ["src/yamlext/_yaml.c"], libraries=["yaml"])],
                package_dir={"": "src"},
                packages=["yamlext"],
            )
        """,
        "src/yamlext/__init__.py": "from yamlext._yaml import libyaml_version\n",
        "src/yamlext/_yaml.c": YAML_EXTENSION,
    })


def import_in_runtime_image(wheel: Path, python_dir: str, code: str) -> subprocess.CompletedProcess[str]:
    """Install ``wheel`` in the image without libyaml (offline, no dependencies) and run ``code``.
    The image's own pip installs it (checking its tags against the interpreter) into a
    directory of its own: a venv would spend seconds in ensurepip."""
    python = f"/opt/python/{python_dir}/bin/python"
    script = (
        f"{python} -m pip install -q --disable-pip-version-check --root-user-action=ignore "
        f"--no-index --no-deps "
        f"--target /tmp/w /wheels/{wheel.name} && "
        f"PYTHONPATH=/tmp/w {python} -c '{code}'"
    )
    return subprocess.run(
        [DOCKER, "run", "--rm", "--network", "none", "-v", f"{wheel.parent}:/wheels:ro",
         RUNTIME_IMAGE, "sh", "-c", script],
        capture_output=True, text=True, timeout=300,
    )


# --------------------------------------------------------------------------- podman

PODMAN_SERVICE = re.compile(r"starting a podman service for this build \(unix://(\S+)\)")


def podman_with_images() -> str:
    """The podman command, working and holding the test images (loaded from docker by
    ``.ci/setup``), or skip (locally) / fail (CI)."""
    podman = shutil.which("podman")
    require(podman, "podman is not installed; run .ci/setup")
    assert podman is not None
    info = subprocess.run([podman, "info"], capture_output=True, text=True, timeout=60)
    require(info.returncode == 0, f"`podman info` fails: {info.stderr.strip()[-200:]}; run .ci/setup")
    for image in (BUILD_IMAGE, RUNTIME_IMAGE):
        found = subprocess.run([podman, "image", "exists", image], capture_output=True, timeout=60)
        require(found.returncode == 0, f"podman has no test image {image}; run .ci/setup")
    return podman


def podman_containers(project_name: str) -> list[str]:
    """Ids of the containers hwb made in podman for ``project_name`` (running or not)."""
    result = subprocess.run(
        ["podman", "ps", "-a", "-q", "--filter", "label=hwb=1", "--filter", f"label=hwb.project={project_name}"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return result.stdout.split()


def started_service_socket(stderr: str) -> Path:
    """The socket of the podman service a build said it started."""
    match = PODMAN_SERVICE.search(stderr)
    assert match, stderr
    return Path(match.group(1))


def processes_mentioning(text: str) -> list[str]:
    """Command lines of the running processes that contain ``text``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        line = " ".join(a.decode("utf-8", "replace") for a in argv if a)
        if text in line:
            found.append(line)
    return found
