"""Isolation ``venv``: a throwaway virtual environment per build.

uv creates it and installs into it when uv is available and ``use-uv`` is true; otherwise the
standard library's venv and pip do. The environment is removed after the build, whatever happens.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hwb_core import hookimpl, process
from hwb_core.config import Config
from hwb_core.errors import BuildError, ConfigError
from hwb_core.hostenv import HostBuildEnv
from hwb_core.interfaces import ConfigKey, EnvRequest, IsolationInfo, PythonInfo, Reporter

NAME = "venv"


@hookimpl
def register_isolation() -> IsolationInfo:
    return IsolationInfo(NAME, "a throwaway virtual environment on the host (uv when available)")


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        "isolation.venv.use-uv": ConfigKey("bool", True, "Create environments and install with uv when it is available."),
        "isolation.venv.cache-envs": ConfigKey("bool", False, "Reuse build environments between builds."),
        "isolation.venv.python-path": ConfigKey("path", None, "Interpreter to build with, overriding --python."),
    }


def find_uv() -> str | None:
    """The uv executable: the one installed with hwb first, then PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _host_pip_can_target() -> bool:
    """pip 22.3+ can install into another interpreter with ``--python``."""
    try:
        from importlib.metadata import version

        major, minor = (int(p) for p in version("pip").split(".")[:2])
    except Exception:
        return False
    return (major, minor) >= (22, 3)


def env_python(env_dir: Path) -> Path:
    if os.name == "nt":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


class VenvBuildEnv(HostBuildEnv):
    isolation = NAME

    def __init__(
        self, *, python: PythonInfo, source_dir: Path, reporter: Reporter, env_dir: Path,
        uv: str | None,
    ) -> None:
        super().__init__(python=python, source_dir=source_dir, reporter=reporter)
        self.env_dir = env_dir
        self.uv = uv
        self._pip_mode = "uv" if uv else ("host" if _host_pip_can_target() else "own")
        self.path_prefix = [str(env_python(env_dir).parent)]
        self.extra_environ = {"VIRTUAL_ENV": str(env_dir)}

    @property
    def python_executable(self) -> str:
        return str(env_python(self.env_dir))

    def create(self) -> None:
        base = self.python.path
        if self.uv:
            cmd = [self.uv, "venv", "--quiet", "--no-config", "--python", base, str(self.env_dir)]
            what = "uv venv"
        else:
            cmd = [base, "-m", "venv", str(self.env_dir)]
            if self._pip_mode == "host":
                cmd.insert(3, "--without-pip")
            what = "python -m venv"
        process.run(cmd, reporter=self.reporter, env=self.environ(), what=what,
                    hint=f"check that {base} can create virtual environments")

    def install(self, requirements: Sequence[str]) -> None:
        if not requirements:
            return
        if self._pip_mode == "uv":
            assert self.uv is not None
            cmd = [self.uv, "pip", "install", "--python", self.python_executable, *requirements]
        elif self._pip_mode == "host":
            cmd = [sys.executable, "-m", "pip", "--python", self.python_executable, "install",
                   "--disable-pip-version-check", *requirements]
        else:
            cmd = [self.python_executable, "-m", "pip", "install", "--disable-pip-version-check", *requirements]
        try:
            process.run(cmd, reporter=self.reporter, cwd=self.source_dir, env=self.environ(), what="installing build requirements")
        except BuildError as exc:
            raise BuildError(
                "could not install build requirements: " + ", ".join(requirements),
                hint="check the names and versions in [build-system] requires (run with -v for the installer's output)",
                details=exc.details,
            ) from None


@hookimpl
def create_env(isolation: str, request: EnvRequest) -> object | None:
    if isolation != NAME:
        return None
    return _venv(request)


@contextmanager
def _venv(request: EnvRequest) -> Iterator[VenvBuildEnv]:
    config: Config = request.config
    python = request.python
    custom = config.get("isolation.venv.python-path")
    if custom:
        from hwb_core.pythons import interrogate

        info = interrogate(os.path.expanduser(custom), "python-path")
        if info is None:
            raise ConfigError(
                f"isolation.venv.python-path {custom!r} ({config.source('isolation.venv.python-path')}) is not a working interpreter",
                hint="point it at a python executable or remove it",
            )
        python = info
    uv = find_uv() if config.get("isolation.venv.use-uv") else None
    env_dir = request.work_dir / "env"
    env = VenvBuildEnv(python=python, source_dir=request.project.root, reporter=request.reporter, env_dir=env_dir, uv=uv)
    try:
        request.reporter.step(f"creating build environment with {'uv' if uv else 'venv'}")
        env.create()
        yield env
    finally:
        shutil.rmtree(env_dir, ignore_errors=True)
