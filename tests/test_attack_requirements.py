"""Attacks on the host through what a container build asks for (issue 25).

A project built in a container must never make the host run its code. Here each project plays
the attacker: its in-tree backend (or its ``[build-system] requires``, its test requirements,
its wheel's ``Requires-Dist``) asks for ``evilpkg`` by a direct reference to a directory of the
project on the host, a git URL, an sdist URL or a plain path. ``evilpkg``'s ``setup.py`` writes
``GITHUB_TOKEN`` into a file on the host when anything runs it. Every attempt must end in a
one-line error naming the requirement, and the file must never appear.

The same file holds the attacks on hwb's caches from a build on the host: a venv build's backend
runs as you and can write into hwb's cache directory, so it tries to poison the containers'
wheelhouse, their prepared environments and another project's cached venv environment.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hwb.requirements import from_index_only
from tests.conftest import assert_clean_error, write_project
from tests.docker.support import BUILD_IMAGE, client_with_images, podman_with_images

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-attack")]

TOKEN = "ghp_attackertestsecret0123456789"
REFUSED = "which is not a requirement from an index"

EVIL_SETUP = """
import os
from setuptools import setup
with open({mark!r}, "a") as out:
    out.write("ran on the host with GITHUB_TOKEN=" + os.environ.get("GITHUB_TOKEN", "") + "\\n")
setup(name="evilpkg", version="1.0")
"""

EVIL_BACKEND = """
from setuptools import build_meta as _real
from setuptools.build_meta import *  # noqa: F403

def get_requires_for_build_wheel(config_settings=None):
    return _real.get_requires_for_build_wheel(config_settings) + [{wanted!r}]
"""


def evil_package(root: Path, mark: Path) -> Path:
    """``root/evilpkg``: a setup.py that leaves ``mark`` on whatever machine runs it."""
    return write_project(root / "evilpkg", {"setup.py": EVIL_SETUP.format(mark=str(mark))})


def attacker(
    root: Path,
    mark: Path,
    *,
    dynamic: str = "",
    static: str = "",
    test_requires: str = "",
    dependency: str = "",
) -> Path:
    """A project asking for ``evilpkg`` in one of the ways an attacker would."""
    name = "hwb-attacker"
    evil_package(root, mark)
    requires = ["setuptools>=68", *([static] if static else [])]
    files = {
        "pyproject.toml": f"""
            [build-system]
            requires = {json.dumps(requires)}
            build-backend = "{"evilbackend" if dynamic else "setuptools.build_meta"}"
            {'backend-path = ["_backend"]' if dynamic else ""}

            [project]
            name = "{name}"
            version = "1.0"
            dependencies = {json.dumps([dependency] if dependency else [])}

            [tool.setuptools]
            py-modules = ["hwb_attacker"]
            """
        + (
            f"""
            [tool.hwb.test]
            requires = {json.dumps([test_requires] if test_requires else [])}
            command = "python -c 'import hwb_attacker'"
            """
            if test_requires or dependency
            else ""
        ),
        "hwb_attacker.py": "VALUE = 1\n",
    }
    if dynamic:
        files["_backend/evilbackend.py"] = EVIL_BACKEND.format(wanted=dynamic)
    return write_project(root, files)


def git_repo(root: Path, mark: Path) -> Path:
    """``evilpkg`` as a git repository (for ``evilpkg @ git+file://...``)."""
    repo = evil_package(root / "repo", mark)
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "x"],
    ):
        subprocess.run(cmd, cwd=repo, check=True, capture_output=True)
    return repo


def refused(result: subprocess.CompletedProcess[str], wanted: str, mark: Path) -> None:
    assert not mark.exists(), mark.read_text()
    assert TOKEN not in result.stderr + result.stdout
    line = assert_clean_error(result, 1)
    assert REFUSED in line and wanted in line, line
    assert "allow-direct-references" in line, line


@pytest.fixture
def secret_env() -> dict[str, str]:
    return {"GITHUB_TOKEN": TOKEN}


# --------------------------------------------------------------------------- the checks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("setuptools", True),
        ("setuptools>=68", True),
        ("scikit-build-core[pyproject]>=0.9; python_version >= '3.8'", True),
        ("evilpkg @ file:///src/evilpkg", False),
        ("evilpkg @ git+file:///src/repo", False),
        ("evilpkg @ https://example.org/evilpkg-1.0.tar.gz", False),
        ("/src/evilpkg", False),
        ("./evilpkg", False),
        ("git+https://example.org/evil.git", False),
        ("evilpkg-1.0.tar.gz", False),
        ("-e /src/evilpkg", False),
        ("--index-url=https://evil.example/simple", False),
    ],
)
def test_only_requirements_from_an_index_pass(text: str, expected: bool) -> None:
    assert from_index_only(text) is expected


def test_an_allowed_wheel_must_be_https_with_its_hash(run_hwb: Any, tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "p",
        {
            "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "allowlist"
            version = "1.0"

            [tool.hwb.isolation.docker]
            allow-direct-references = ["evilpkg @ file:///src/evilpkg"]
            """,
        },
    )
    line = assert_clean_error(run_hwb("build", str(project), "--isolation", "docker"), 2)
    assert "allow-direct-references" in line and "#sha256=" in line, line


def test_an_allowed_wheel_passes_the_check() -> None:
    from hwb_core.errors import BuildError
    from hwb_plugins.container.wheelhouse import check_requirements

    wheel = "pkg @ https://example.org/pkg-1.0-py3-none-any.whl#sha256=" + "ab" * 32
    check_requirements(["setuptools", wheel], [wheel], "[tool.hwb.isolation.docker]")
    with pytest.raises(BuildError, match="not a requirement from an index"):
        check_requirements([wheel], [], "[tool.hwb.isolation.docker]")


# --------------------------------------------------------------------------- docker, podman, matrix


def build_in(run_hwb: Any, engine: str, project: Path, env: dict[str, str], *extra: str) -> Any:
    if engine == "podman":
        podman_with_images()
        env = {**env, "CONTAINER_HOST": ""}
    else:
        client_with_images()
    command = "matrix" if engine == "matrix" else "build"
    isolation = "docker" if engine == "matrix" else engine
    return run_hwb(
        command,
        str(project),
        "--isolation",
        isolation,
        "--image",
        BUILD_IMAGE,
        "--python",
        "3.12",
        "-o",
        str(project / "out"),
        *extra,
        env=env,
    )


@pytest.mark.parametrize("engine", ["docker", "podman", "matrix"])
def test_the_backend_asking_for_a_directory_of_the_project_is_refused(
    run_hwb: Any, tmp_path: Path, secret_env: dict[str, str], engine: str
) -> None:
    """The escape as reported: a ``file://`` reference to a directory of the project."""
    mark = tmp_path / "pwned"
    wanted = f"evilpkg @ file://{tmp_path / 'p' / 'evilpkg'}"
    project = attacker(tmp_path / "p", mark, dynamic=wanted)
    result = build_in(run_hwb, engine, project, secret_env)
    if engine == "matrix":  # the job's error is in the summary, not an error: line of its own
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert REFUSED in result.stderr and wanted in result.stderr, result.stderr
        assert not mark.exists()
    else:
        refused(result, wanted, mark)
    assert not list((project / "out").glob("*.whl")) if (project / "out").exists() else True


@pytest.mark.parametrize("engine", ["docker", "podman"])
@pytest.mark.parametrize(
    "how", ["git", "sdist-url", "path", "static", "test-requires", "dependency"]
)
def test_every_other_way_of_pointing_the_host_at_code_is_refused(
    run_hwb: Any, tmp_path: Path, secret_env: dict[str, str], how: str, engine: str
) -> None:
    mark = tmp_path / "pwned"
    local = tmp_path / "p" / "evilpkg"
    if how == "git":
        wanted = f"evilpkg @ git+file://{git_repo(tmp_path, mark)}"
        project = attacker(tmp_path / "p", mark, dynamic=wanted)
    elif how == "sdist-url":
        wanted = "evilpkg @ https://files.example.org/evilpkg-1.0.tar.gz"
        project = attacker(tmp_path / "p", mark, dynamic=wanted)
    elif how == "path":
        wanted = str(local)
        project = attacker(tmp_path / "p", mark, dynamic=wanted)
    elif how == "static":
        wanted = f"evilpkg @ file://{local}"
        project = attacker(tmp_path / "p", mark, static=wanted)
    elif how == "test-requires":
        wanted = f"evilpkg @ file://{local}"
        project = attacker(tmp_path / "p", mark, test_requires=wanted)
    else:
        wanted = f"evilpkg @ file://{local}"
        project = attacker(tmp_path / "p", mark, dependency=f"evilpkg @ file://{local}")
    result = build_in(run_hwb, engine, project, secret_env)
    refused(result, wanted, mark)
    assert not (project / "out").exists() or not list((project / "out").iterdir())


# --------------------------------------------------------------------------- hwb's caches


POISON_SETUP = """
import glob, io, os, zipfile
from setuptools import setup
cache = os.environ["HWB_CACHE_DIR"]
# A setuptools 999 that breaks whatever installs it, beside and inside every requirement set.
fake = io.BytesIO()
with zipfile.ZipFile(fake, "w") as zf:
    zf.writestr("setuptools/__init__.py", "raise SystemExit('POISONED setuptools')\\n")
    zf.writestr("setuptools-999.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: setuptools\\nVersion: 999.0\\n")
    zf.writestr("setuptools-999.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
    zf.writestr("setuptools-999.0.dist-info/RECORD", "")
for target in glob.glob(os.path.join(cache, "wheelhouse", "*")):
    for where in [target, *glob.glob(os.path.join(target, "sets", "*", ""))]:
        with open(os.path.join(where, "setuptools-999.0-py3-none-any.whl"), "wb") as out:
            out.write(fake.getvalue())
    for wheel in glob.glob(os.path.join(target, "sets", "*", "setuptools-*.whl")):
        if "999" not in wheel:
            with open(wheel, "wb") as out:
                out.write(fake.getvalue())
for site in glob.glob(os.path.join(cache, "container-envs", "*", "lib", "python*", "site-packages")):
    with open(os.path.join(site, "aaa-poison.pth"), "w") as out:
        out.write("import sys; sys.exit('POISONED layer')\\n")
for site in glob.glob(os.path.join(cache, "envs", "*", "lib", "python*", "site-packages")):
    with open(os.path.join(site, "aaa-poison.pth"), "w") as out:
        out.write("import os; open(os.environ['HWB_ATTACK_MARK'], 'a').write('pth ran\\\\n')\\n")
setup(name="poisoner", version="1.0", py_modules=[])
"""


def plain_project(root: Path, name: str) -> Path:
    return write_project(
        root,
        {
            "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
            """,
            f"{name.replace('-', '_')}.py": "VALUE = 1\n",
        },
    )


def test_a_venv_build_cannot_poison_what_later_builds_of_other_projects_get(
    run_hwb: Any, tmp_path: Path
) -> None:
    """A venv build writes into the containers' wheelhouse (a setuptools 999 beside and inside
    every requirement set, the real wheel overwritten), into the prepared environments and into
    another project's cached environment (a ``.pth``). The next builds of other projects notice,
    fetch or make those again, and build with the real setuptools; the ``.pth`` never runs."""
    client_with_images()
    cache = tmp_path / "cache"
    mark = tmp_path / "pth-ran"
    env = {"HWB_CACHE_DIR": str(cache), "HWB_ATTACK_MARK": str(mark)}
    victim = plain_project(tmp_path / "victim", "hwb-victim")
    other = plain_project(tmp_path / "other", "hwb-other")

    def docker(project: Path) -> Any:
        return run_hwb(
            "build",
            str(project),
            "--isolation",
            "docker",
            "--image",
            BUILD_IMAGE,
            "--python",
            "3.12",
            "-o",
            str(tmp_path / "out"),
            "-v",
            env=env,
        )

    def venv(project: Path) -> Any:
        return run_hwb(
            "build",
            str(project),
            "--isolation",
            "venv",
            "--cache-envs",
            "-o",
            str(tmp_path / "out"),
            "-v",
            env=env,
        )

    assert docker(victim).returncode == 0
    assert venv(victim).returncode == 0  # a cached environment with setuptools
    poisoner = write_project(
        tmp_path / "poisoner",
        {
            "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=68", "wheel"]
            build-backend = "setuptools.build_meta"
            """,
            "setup.py": POISON_SETUP,
        },
    )
    poisoned = run_hwb(
        "build", str(poisoner), "--isolation", "venv", "-o", str(tmp_path / "out"), env=env
    )
    assert poisoned.returncode == 0, poisoned.stderr
    assert list(cache.glob("wheelhouse/*/sets/*/setuptools-999.0-py3-none-any.whl"))
    assert list(cache.glob("container-envs/*/lib/python*/site-packages/aaa-poison.pth"))
    assert list(cache.glob("envs/*/lib/python*/site-packages/aaa-poison.pth"))

    again = docker(other)
    assert again.returncode == 0, again.stderr
    assert "changed since it was downloaded" in again.stderr, again.stderr
    assert "changed since it was made" in again.stderr, again.stderr
    assert "POISONED" not in again.stderr
    assert not list(cache.glob("wheelhouse/*/sets/*/setuptools-999.0-py3-none-any.whl"))
    assert not list(cache.glob("container-envs/*/lib/python*/site-packages/aaa-poison.pth"))

    cached = venv(other)
    assert cached.returncode == 0, cached.stderr
    assert (
        "cached build environment" in cached.stderr and "changed since it was made" in cached.stderr
    )
    assert not mark.exists(), mark.read_text()
    assert not list(cache.glob("envs/*/lib/python*/site-packages/aaa-poison.pth"))


def test_the_host_download_runs_without_credentials_outside_the_project(tmp_path: Path) -> None:
    """The wheelhouse's ``pip download`` (and the other installers hwb runs for a build) get
    the backend's rule: no token, index settings kept."""
    from hwb.installer import installer_environment

    env = installer_environment(
        {
            "GITHUB_TOKEN": TOKEN,
            "AWS_SECRET_ACCESS_KEY": "x",
            "PIP_INDEX_URL": "https://user:pw@index.example/simple",
            "UV_INDEX_PRIVATE_PASSWORD": "pw",
            "PATH": os.environ.get("PATH", ""),
        }
    )
    assert sorted(env) == ["PATH", "PIP_INDEX_URL", "UV_INDEX_PRIVATE_PASSWORD"]


def test_hwb_lock_runs_the_backend_and_its_installer_without_credentials(
    run_hwb: Any, tmp_path: Path, secret_env: dict[str, str]
) -> None:
    """``hwb lock`` asks the project's backend what it needs: the backend sees what a build's
    backend sees (no token), and nothing in the source tree configures the installer."""
    seen = tmp_path / "seen"
    project = write_project(
        tmp_path / "p",
        {
            "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "spy"
            backend-path = ["_backend"]

            [project]
            name = "locked"
            version = "1.0"
            """,
            "_backend/spy.py": f"""
            import os
            from setuptools.build_meta import *  # noqa: F403

            def get_requires_for_build_wheel(config_settings=None):
                with open({str(seen)!r}, "w") as out:
                    out.write(os.environ.get("GITHUB_TOKEN", "no token"))
                return []
            """,
            # Read by uv if it ran in the source tree: an index that does not exist.
            "uv.toml": 'index-url = "http://127.0.0.1:9/simple"\n',
        },
    )
    result = run_hwb("lock", str(project), "-o", str(tmp_path / "constraints.txt"), env=secret_env)
    assert result.returncode == 0, result.stderr
    assert seen.read_text() == "no token"


LINKING_BACKEND = """
import os

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = {name!r}
    if {link!r}:
        os.symlink({link!r}, os.path.join(wheel_directory, name))
    return name
"""


@pytest.mark.parametrize("how", ["link", "path"])
def test_a_wheel_the_container_names_is_never_a_file_of_the_host(
    run_hwb: Any, tmp_path: Path, how: str
) -> None:
    """The backend answers with a link to a file of the host, or with a path out of the wheel
    directory: hwb publishes neither, and says so in one line."""
    client_with_images()
    secret = write_project(tmp_path / "host", {"hostfile-1.0-py3-none-any.whl": "HOST SECRET\n"})
    target = str(secret / "hostfile-1.0-py3-none-any.whl")
    name, link = ("linker-1.0-py3-none-any.whl", target) if how == "link" else (target, "")
    project = write_project(
        tmp_path / "p",
        {
            "pyproject.toml": """
            [build-system]
            requires = []
            build-backend = "linker"
            backend-path = ["_backend"]
            """,
            "_backend/linker.py": LINKING_BACKEND.format(name=name, link=link),
        },
    )
    out = tmp_path / "out"
    result = run_hwb(
        "build",
        str(project),
        "--isolation",
        "docker",
        "--image",
        BUILD_IMAGE,
        "--python",
        "3.12",
        "-o",
        str(out),
    )
    line = assert_clean_error(result, 1)
    assert ("link or special file" if how == "link" else "not the file name of a wheel") in line, (
        line
    )
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.parametrize("how", ["git", "test-requires"])
def test_a_matrix_refuses_them_too(
    run_hwb: Any, tmp_path: Path, secret_env: dict[str, str], how: str
) -> None:
    mark = tmp_path / "pwned"
    if how == "git":
        wanted = f"evilpkg @ git+file://{git_repo(tmp_path, mark)}"
        project = attacker(tmp_path / "p", mark, dynamic=wanted)
    else:
        wanted = f"evilpkg @ file://{tmp_path / 'p' / 'evilpkg'}"
        project = attacker(tmp_path / "p", mark, test_requires=wanted)
    result = build_in(run_hwb, "matrix", project, secret_env)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert REFUSED in result.stderr and wanted in result.stderr, result.stderr
    assert not mark.exists()
    assert TOKEN not in result.stderr + result.stdout
