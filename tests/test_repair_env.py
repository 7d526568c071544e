"""The auditwheel plugin in a build environment that is not the host (what the docker isolation
gives it): auditwheel installed with ``env.install``, run with ``env.run``, every path passed
through ``env.env_path``. Here the "elsewhere" is a real virtual environment that sees hwb's work
directory only under another name (a symlink standing for a container's mount), so a host path
that slipped through untranslated would be caught, and the real auditwheel does the work."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from hwb import repair
from hwb_core.errors import RepairError
from hwb_core.interfaces import BuildEnv, PythonInfo, RunResult
from hwb_core.pipeline import Session
from hwb_core.plugins import PluginManager
from hwb_plugins.auditwheel.repair import REQUIREMENTS
from tests.conftest import NullReporter
from tests.test_repair_support import built, hwb_build, project, python312, uv

pytestmark = pytest.mark.real


class AliasedEnv(BuildEnv):
    """Commands run in ``venv`` and see ``mount`` only as ``alias``."""

    isolation = "aliased"
    on_host = False

    def __init__(self, *, python: PythonInfo, venv: Path, mount: Path, alias: Path) -> None:
        super().__init__(python=python, source_dir=mount, reporter=NullReporter())
        self.venv, self.mount, self.alias = venv, mount, alias
        self.installed: list[str] = []
        self.commands: list[list[str]] = []

    @property
    def python_executable(self) -> str:
        return str(self.venv / "bin" / "python")

    def env_path(self, host_path: Path) -> str:
        return str(self.alias / Path(host_path).resolve().relative_to(self.mount.resolve()))

    def install(self, requirements: Sequence[str]) -> None:
        self.installed += requirements
        subprocess.run([uv(), "pip", "install", "--quiet", "--python", self.python_executable, *requirements],
                       check=True, timeout=600)

    def run(self, cmd: Sequence[str], *, cwd: Path | None = None,
            extra_env: Mapping[str, str] | None = None, check: bool = True) -> RunResult:
        self.commands.append(list(cmd))
        environ = {"PATH": f"{self.venv}/bin:/usr/bin:/bin", "HOME": str(self.alias)}
        try:
            done = subprocess.run(list(cmd), cwd=self.alias, env=environ, capture_output=True, text=True, timeout=600)
        except FileNotFoundError:  # as HostBuildEnv and the docker environment report it
            from hwb_core.errors import BuildError

            raise BuildError(f"{cmd[0]} was not found") from None
        return RunResult(done.returncode, done.stdout + done.stderr)


@pytest.fixture(scope="module")
def env_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("aliased") / "venv"
    subprocess.run([uv(), "venv", "--quiet", "--python", python312(), str(venv)], check=True, timeout=300)
    return venv


@pytest.fixture
def raw_yaml_wheel(run_hwb: Any, tmp_path: Path) -> Path:
    wheel = built(hwb_build(run_hwb, project("yamlext", tmp_path), tmp_path / "work" / "in", "--no-repair"))
    return Path(wheel["path"])


def make_env(tmp_path: Path, venv: Path, version: str = "3.12.1") -> AliasedEnv:
    alias = tmp_path / "mnt"
    alias.symlink_to(tmp_path / "work", target_is_directory=True)
    info = PythonInfo(path=str(venv / "bin" / "python"), version=version, implementation="cpython",
                      abi_tag="cp312", source="test")
    return AliasedEnv(python=info, venv=venv, mount=tmp_path / "work", alias=alias)


def session() -> Session:
    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    return Session(pm, NullReporter())


def test_repair_in_an_environment_elsewhere_installs_auditwheel_there_and_translates_paths(
    env_venv: Path, raw_yaml_wheel: Path, tmp_path: Path
) -> None:
    env = make_env(tmp_path, env_venv)
    s = session()
    result = repair(s, raw_yaml_wheel, env, s.config_for(None), env.python, tmp_path / "work" / "repaired")
    assert result.repaired and result.repairer == "auditwheel"
    assert [lib.split(".so")[0] for lib in result.bundled] == ["libyaml-0"]
    assert result.path.parent == tmp_path / "work" / "repaired"
    assert env.installed == list(REQUIREMENTS)
    (command,) = env.commands
    assert command[:3] == [env.python_executable, "-m", "auditwheel"]
    mount = str(tmp_path / "work")
    assert not [arg for arg in command if arg.startswith(mount)], command
    assert str(env.alias / "in" / raw_yaml_wheel.name) in command


def test_an_old_build_interpreter_uses_the_auditwheel_command_of_the_environment(
    env_venv: Path, raw_yaml_wheel: Path, tmp_path: Path
) -> None:
    # auditwheel 6.2+ needs Python 3.9: with 3.8 the plugin installs nothing and runs the
    # `auditwheel` command the environment provides (manylinux images have one). The command
    # is put there first: this test must not depend on another having installed it.
    subprocess.run([uv(), "pip", "install", "--quiet", "--python", str(env_venv / "bin" / "python"),
                    *REQUIREMENTS], check=True, timeout=600)
    assert (env_venv / "bin" / "auditwheel").exists()
    env = make_env(tmp_path, env_venv, version="3.8.18")
    s = session()
    result = repair(s, raw_yaml_wheel, env, s.config_for(None), env.python, tmp_path / "work" / "repaired")
    assert result.repaired and env.installed == []
    assert [c[0] for c in env.commands] == ["auditwheel", "auditwheel"]  # --version, then repair


def test_an_old_interpreter_without_an_auditwheel_command_is_a_clear_error(
    tmp_path: Path, raw_yaml_wheel: Path
) -> None:
    bare = tmp_path / "bare-venv"
    subprocess.run([uv(), "venv", "--quiet", "--python", python312(), str(bare)], check=True, timeout=300)
    env = make_env(tmp_path, bare, version="3.8.18")
    s = session()
    with pytest.raises(RepairError) as caught:
        repair(s, raw_yaml_wheel, env, s.config_for(None), env.python, tmp_path / "work" / "repaired")
    assert "needs Python 3.9 or newer" in caught.value.message
    assert "manylinux" in (caught.value.hint or "")


def test_repair_mode_warn_covers_a_failed_install_in_the_environment(
    raw_yaml_wheel: Path, tmp_path: Path
) -> None:
    class Offline(AliasedEnv):
        def install(self, requirements: Sequence[str]) -> None:
            from hwb_core.errors import BuildError

            raise BuildError("could not install in the build container: auditwheel", hint="offline")

    env = make_env(tmp_path, Path(os.devnull))
    env.__class__ = Offline
    s = session()
    config = s.config_for(None, {"repair.mode": "warn"})
    result = repair(s, raw_yaml_wheel, env, config, env.python, tmp_path / "work" / "repaired")
    assert result.path == raw_yaml_wheel and not result.repaired
    assert "could not install auditwheel" in result.reason
