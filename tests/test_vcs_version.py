"""Versions from git tags (setuptools-scm, hatch-vcs) come out the same in every isolation
(issue 11): the private copy of a venv build and the container's copy keep ``.git``; where the
image has no git, the host describes the checkout in ``.git_archival.txt`` inside the
container's copy. The user's tree is never written to."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import json_out, require, write_project
from tests.docker.support import (
    BUILD_IMAGE,
    RUNTIME_IMAGE,
    client_with_images,
    docker_build,
    tree_digest,
)

pytestmark = pytest.mark.docker

GIT = [
    "git",
    "-c",
    "user.name=hwb",
    "-c",
    "user.email=hwb@example.invalid",
    "-c",
    "commit.gpgsign=false",
]


def tagged_checkout(root: Path, backend: str, tag: str = "v1.2.3") -> Path:
    """A project whose version comes from git, committed and tagged ``tag``."""
    require(shutil.which("git"), "git is not installed")
    if backend == "setuptools-scm":
        build_system = """
            [build-system]
            requires = ["setuptools>=64", "setuptools-scm>=8"]
            build-backend = "setuptools.build_meta"
            """
        tool = "[tool.setuptools_scm]\n"
    else:
        build_system = """
            [build-system]
            requires = ["hatchling", "hatch-vcs"]
            build-backend = "hatchling.build"
            """
        tool = '[tool.hatch.version]\nsource = "vcs"\n[tool.hatch.build.targets.wheel]\npackages = ["src/scmdemo"]\n'
    write_project(
        root,
        {
            "pyproject.toml": build_system
            + """
            [project]
            name = "scmdemo"
            dynamic = ["version"]
            """
            + tool,
            "src/scmdemo/__init__.py": "VALUE = 1\n",
        },
    )
    # write_project dedents each file as a whole: the appended table must start flush.
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(
        "\n".join(line.strip() for line in text.splitlines()) + "\n"
    )
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "first"], ["tag", tag]):
        subprocess.run([*GIT, *argv], cwd=root, check=True)
    return root


def wheel_version(path: str) -> str:
    with zipfile.ZipFile(path) as wheel:
        metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        text = wheel.read(metadata).decode()
    return next(
        line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Version: ")
    )


@pytest.mark.real
@pytest.mark.parametrize("backend", ["setuptools-scm", "hatch-vcs"])
def test_venv_build_reads_the_tag(run_hwb, tmp_path: Path, backend: str) -> None:
    project = tagged_checkout(tmp_path / "proj", backend)
    before = tree_digest(project)
    wheel = json_out(
        run_hwb("build", str(project), "--isolation", "venv", "-o", str(tmp_path / "out"), "--json")
    )["wheels"][0]
    assert wheel["filename"].startswith("scmdemo-1.2.3-")
    assert wheel_version(wheel["path"]) == "1.2.3"
    assert tree_digest(project) == before


@pytest.mark.xdist_group("docker-vcs")
def test_docker_build_with_git_in_the_image(run_hwb, tmp_path: Path) -> None:
    client_with_images()
    project = tagged_checkout(tmp_path / "proj", "setuptools-scm")
    before = tree_digest(project)
    result = docker_build(run_hwb, project, "-o", str(tmp_path / "out"), "-vv", image=BUILD_IMAGE)
    wheel = json_out(result)["wheels"][0]
    assert wheel_version(wheel["path"]) == "1.2.3"
    assert "has no git" not in result.stderr  # the image's own git read .git
    assert tree_digest(project) == before


@pytest.mark.xdist_group("docker-vcs")
@pytest.mark.parametrize("backend", ["setuptools-scm", "hatch-vcs"])
def test_docker_build_without_git_in_the_image(run_hwb, tmp_path: Path, backend: str) -> None:
    client_with_images()
    project = tagged_checkout(tmp_path / "proj", backend)
    # A later commit: the version says how far HEAD is past the tag, as on the host.
    (project / "src/scmdemo/extra.py").write_text("X = 2\n")
    subprocess.run([*GIT, "add", "-A"], cwd=project, check=True)
    subprocess.run([*GIT, "commit", "-qm", "second"], cwd=project, check=True)
    before = tree_digest(project)
    venv = json_out(
        run_hwb(
            "build", str(project), "--isolation", "venv", "-o", str(tmp_path / "venv-out"), "--json"
        )
    )["wheels"][0]
    result = docker_build(run_hwb, project, "-o", str(tmp_path / "out"), "-vv", image=RUNTIME_IMAGE)
    wheel = json_out(result)["wheels"][0]
    assert "the image has no git" in result.stderr
    assert wheel_version(wheel["path"]) == wheel_version(venv["path"])
    assert wheel_version(wheel["path"]).startswith("1.2.4.dev1+g")
    assert tree_digest(project) == before
    assert not (project / ".git_archival.txt").exists()
