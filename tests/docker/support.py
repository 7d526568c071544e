"""What the docker tests share: the test images (made by ``tests/docker/make_images.sh``, run
by ``.ci/setup``), the engine, and looking for containers a build left behind."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import require

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
