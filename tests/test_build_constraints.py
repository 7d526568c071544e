"""Pinned build requirements (``--build-constraint``, ``build-constraint``, ``hwb lock``): real
builds with setuptools from PyPI held at an older version by a constraints file, in a venv (uv
and pip) and in a container; hashes checked; a cached environment keyed by the file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hwb.constraints import parse
from hwb_core.errors import ConfigError
from tests.conftest import assert_clean_error, json_out, pyenv_python, write_project
from tests.docker.support import BUILD_IMAGE, client_with_images, hwb_containers, left_containers

Run = Callable[..., subprocess.CompletedProcess[str]]

OLD = "70.3.0"
"""An older setuptools that writes its own WHEEL file (``Generator: setuptools (70.3.0)``)."""


def project(root: Path, requires: str = '"setuptools>=61"') -> Path:
    return write_project(
        root,
        {
            "pyproject.toml": f"""
                [build-system]
                requires = [{requires}]
                build-backend = "setuptools.build_meta"

                [project]
                name = "hwbpinned"
                version = "1.0"
            """,
            "src/hwbpinned/__init__.py": "X = 1\n",
        },
    )


def generator(wheel: Path) -> str:
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        text = zf.read("hwbpinned-1.0.dist-info/WHEEL").decode()
    found = re.search(r"^Generator: (.+)$", text, re.M)
    assert found, text
    return found.group(1)


def lock(run_hwb: Run, root: Path, out: Path, pin: str = f"setuptools=={OLD}") -> Path:
    """A hashed constraints file written by ``hwb lock`` for a project requiring ``pin``."""
    pinned = project(root / "locked", f'"{pin}"')
    result = run_hwb("lock", str(pinned), "-o", str(out), "--json")
    record = json_out(result)
    assert record["path"] == str(out)
    assert all(p["hashes"] for p in record["pins"]), record
    return out


#: The sha256 of setuptools 70.3.0's one wheel on PyPI (its sdist's is the file's other hash).
WHEEL_HASH = "fe384da74336c398e0d956d1cae0669bc02eed936cdb1d49b57de1990dc11ffc"


def tamper(lock_file: Path, dest: Path) -> Path:
    """The same file with the hash of setuptools' wheel changed, its sdist's kept: an installer
    that may build the sdist would pass; hwb installs from wheels only, and fails alike in
    every isolation."""
    text = lock_file.read_text()
    assert WHEEL_HASH in text and text.count("--hash=sha256:") == 2, text
    dest.write_text(text.replace(WHEEL_HASH, "0" * 64))
    return dest


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``hwb lock`` of a project requiring setuptools==70.3.0, once for the module."""
    root = tmp_path_factory.mktemp("lock")
    pinned = project(root / "locked", f'"setuptools=={OLD}"')
    out = root / "build-constraints.txt"
    env = {k: v for k, v in os.environ.items() if k != "HWB_DISABLE_PLUGINS"}
    env["HWB_CACHE_DIR"] = str(root / "cache")
    done = subprocess.run(
        [sys.executable, "-m", "hwb_core", "lock", str(pinned), "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return out


# --------------------------------------------------------------------------- the file


def test_a_lock_written_by_hwb_lock_pins_with_hashes(locked: Path) -> None:
    pins = {p.name: p for p in parse(locked.read_text(), locked)}
    assert pins["setuptools"].version == OLD
    assert all(p.hashes and p.version for p in pins.values())
    assert "# Build constraints for hwbpinned, written by hwb lock." in locked.read_text()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("setuptools>=60 --hash=sha256:ab\n", "is not pinned with =="),
        ("setuptools==1 --hash=sha256:ab\nwheel==1\n", "has hashes, but not on wheel==1"),
        ("-r other.txt\n", "-r is not supported"),
        ("setuptools==1 --hash=md5:ab\n", "md5 hashes are not supported"),
        ("not a requirement!\n", "is not a requirement"),
    ],
)
def test_a_file_hwb_cannot_use_is_refused_in_one_line(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text, Path("c.txt"))
    assert fragment in info.value.one_line()


# --------------------------------------------------------------------------- the plugin


@pytest.mark.parametrize("where", ["--build-constraint", "HWB_BUILD_CONSTRAINT", "pyproject.toml"])
def test_with_the_constraints_plugin_blocked_a_build_never_runs_without_the_pins(
    run_hwb: Run, tmp_path: Path, where: str
) -> None:
    """The plugin ``constraints`` reads the file (the ``build_constraints`` hook); blocked, a
    build that names one stops in one line before it makes anything."""
    root = project(tmp_path / "p")
    pins = tmp_path / "c.txt"
    pins.write_text("setuptools==70.3.0\n")
    args, env = ["build", str(root), "-o", str(tmp_path / "out")], {}
    if where == "--build-constraint":
        args += ["--build-constraint", str(pins)]
    elif where == "HWB_BUILD_CONSTRAINT":
        env["HWB_BUILD_CONSTRAINT"] = str(pins)
    else:
        with (root / "pyproject.toml").open("a") as toml:
            toml.write(f'\n[tool.hwb]\nbuild-constraint = "{pins}"\n')
    result = run_hwb("-p", "no:constraints", *args, env=env)
    line = assert_clean_error(result, 2)
    assert "build-constraint is set" in line and "no plugin reads build constraints" in line
    assert not (tmp_path / "out").exists()


def test_the_build_constraints_hook_reads_the_file_and_another_plugin_may_answer_first(
    tmp_path: Path,
) -> None:
    from hwb_core import hookimpl
    from hwb_core.config import load_config
    from hwb_core.plugins import PluginManager
    from hwb_core.project import Project

    root = project(tmp_path / "p")
    (root / "c.txt").write_text("setuptools==70.3.0\n")
    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    toml = {"build-constraint": "c.txt"}
    config = load_config(pm.schema(), tool_hwb=toml, pyproject_path=root / "pyproject.toml")
    found = pm.build_constraints(config, Project.load(root))
    assert found.path == root / "c.txt" and [p.requirement for p in found.pins] == [
        "setuptools==70.3.0"
    ]
    assert pm.build_constraints(load_config(pm.schema()), Project.load(root)) is None

    class Elsewhere:
        @hookimpl(tryfirst=True)
        def build_constraints(self, config: object, project: Project) -> object:
            return "pins from elsewhere"

    pm._pm.register(Elsewhere(), name="elsewhere")
    assert pm.build_constraints(config, Project.load(root)) == "pins from elsewhere"


@pytest.mark.real
def test_hwb_lock_pins_what_the_backend_asks_for(run_hwb: Run, tmp_path: Path) -> None:
    # setuptools 68 answers get_requires_for_build_wheel with "wheel".
    out = lock(run_hwb, tmp_path, tmp_path / "c.txt", "setuptools==68.2.2")
    text = out.read_text()
    assert "# The backend asked for: wheel" in text
    names = {p.name for p in parse(text, out)}
    assert {"setuptools", "wheel"} <= names, text


# --------------------------------------------------------------------------- venv


@pytest.mark.real
@pytest.mark.parametrize("use_uv", ["1", "0"])
def test_a_venv_build_installs_the_pinned_setuptools(
    run_hwb: Run, tmp_path: Path, locked: Path, use_uv: str
) -> None:
    root = project(tmp_path / "p")
    out = tmp_path / "out"
    result = run_hwb(
        "build",
        str(root),
        "-o",
        str(out),
        "--isolation",
        "venv",
        "--build-constraint",
        str(locked),
        "--json",
        env={"HWB_ISOLATION_VENV_USE_UV": use_uv},
    )
    wheel = Path(json_out(result)["wheels"][0]["path"])
    assert generator(wheel) == f"setuptools ({OLD})"


@pytest.mark.real
def test_the_key_in_pyproject_toml_is_relative_to_the_project(run_hwb: Run, tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    (root / "pins.txt").write_text(f"setuptools=={OLD}\n")
    with open(root / "pyproject.toml", "a") as stream:
        stream.write('\n[tool.hwb]\nbuild-constraint = "pins.txt"\n')
    result = run_hwb(
        "build", str(root), "-o", str(tmp_path / "out"), "--isolation", "venv", "--json"
    )
    assert generator(Path(json_out(result)["wheels"][0]["path"])) == f"setuptools ({OLD})"


@pytest.mark.real
def test_a_hash_mismatch_is_a_one_line_error_and_nothing_is_published(
    run_hwb: Run, tmp_path: Path, locked: Path
) -> None:
    bad = tamper(locked, tmp_path / "bad.txt")
    out = tmp_path / "out"
    result = run_hwb(
        "build",
        str(project(tmp_path / "p")),
        "-o",
        str(out),
        "--isolation",
        "venv",
        "--build-constraint",
        str(bad),
    )
    line = assert_clean_error(result, 1)
    assert f"setuptools=={OLD} does not match its hash in {bad}" in line, line
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.real
def test_a_requirement_the_hashed_file_does_not_pin_is_named(
    run_hwb: Run, tmp_path: Path, locked: Path
) -> None:
    root = project(tmp_path / "p", '"setuptools>=61", "tomli-w"')
    result = run_hwb(
        "build",
        str(root),
        "-o",
        str(tmp_path / "out"),
        "--isolation",
        "venv",
        "--build-constraint",
        str(locked),
    )
    line = assert_clean_error(result, 1)
    assert "build requirement tomli-w has no pinned, hashed line" in line, line


@pytest.mark.real
def test_a_cached_environment_is_keyed_by_the_constraints(run_hwb: Run, tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text(f"setuptools=={OLD}\n")
    second.write_text("setuptools==71.1.0\n")
    for pins, version in ((first, OLD), (second, "71.1.0"), (first, OLD)):
        result = run_hwb(
            "build",
            str(root),
            "-o",
            str(tmp_path / version),
            "--isolation",
            "venv",
            "--cache-envs",
            "--build-constraint",
            str(pins),
            "--json",
        )
        wheel = Path(json_out(result)["wheels"][0]["path"])
        assert generator(wheel) == f"setuptools ({version})", pins


@pytest.mark.real
def test_isolation_none_refuses_an_interpreter_outside_the_pins(
    run_hwb: Run, tmp_path: Path
) -> None:
    pins = tmp_path / "c.txt"
    pins.write_text("setuptools==1.0\n")
    result = run_hwb(
        "build",
        str(project(tmp_path / "p", '"setuptools"')),
        "-o",
        str(tmp_path / "out"),
        "--isolation",
        "none",
        "--python",
        str(pyenv_python("3.11")),
        "--build-constraint",
        str(pins),
    )
    line = assert_clean_error(result, 1)
    assert "are outside the build constraints" in line and "setuptools==1.0" in line, line


# --------------------------------------------------------------------------- docker


@pytest.mark.docker
@pytest.mark.xdist_group("docker-constraints")
@pytest.mark.parametrize("cache", ["--no-cache-envs", "--cache-envs"])
def test_a_container_build_installs_the_pinned_setuptools(
    run_hwb: Run, tmp_path: Path, locked: Path, cache: str
) -> None:
    client = client_with_images()
    out = tmp_path / "out"
    result = run_hwb(
        "build",
        str(project(tmp_path / "p")),
        "-o",
        str(out),
        "--isolation",
        "docker",
        "--image",
        BUILD_IMAGE,
        "--python",
        "3.12",
        "--build-constraint",
        str(locked),
        cache,
        "--json",
    )
    wheel = Path(json_out(result)["wheels"][0]["path"])
    assert generator(wheel) == f"setuptools ({OLD})"
    assert left_containers(hwb_containers, client, "hwbpinned") == []


@pytest.mark.docker
@pytest.mark.xdist_group("docker-constraints")
def test_a_hash_mismatch_in_a_container_build_is_a_one_line_error(
    run_hwb: Run, tmp_path: Path, locked: Path
) -> None:
    client_with_images()
    bad = tamper(locked, tmp_path / "bad.txt")
    out = tmp_path / "out"
    result = run_hwb(
        "build",
        str(project(tmp_path / "p")),
        "-o",
        str(out),
        "--isolation",
        "docker",
        "--image",
        BUILD_IMAGE,
        "--python",
        "3.12",
        "--build-constraint",
        str(bad),
    )
    line = assert_clean_error(result, 1)
    assert f"setuptools=={OLD} does not match its hash in {bad}" in line, line
    assert not out.exists() or not list(out.iterdir())
