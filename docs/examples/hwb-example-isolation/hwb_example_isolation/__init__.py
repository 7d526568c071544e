"""Isolation ``recorded``: a throwaway environment made by the standard library's ``venv`` and
filled by ``pip``, which writes down what the build installed.

Like ``python -m build``, it drives the ``pip`` installed beside hwb into the new environment
(``pip --python``) when that ``pip`` can: creating the environment then takes a tenth of a
second instead of the seconds ``ensurepip`` needs. Otherwise the environment gets a ``pip`` of
its own from ``ensurepip``.

Two reasons to want it: pip reads the machine's pip configuration (private indexes, constraint
files) where uv does not, and the record is build provenance you can keep beside the wheel.

Settings (declared below, so they also work from ``[tool.hwb.isolation.recorded]`` and from
``HWB_ISOLATION_RECORDED_FILE`` / ``HWB_ISOLATION_RECORDED_PIP_ARGS``):

- ``file``: where to write the record (JSON); without it the record is summarised on stderr.
- ``pip-args``: extra arguments for every ``pip install``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from hwb import (
    BuildError,
    CliOption,
    ConfigKey,
    EnvRequest,
    IsolationInfo,
    PythonInfo,
    Reporter,
    hookimpl,
    process,
)
from hwb.constraints import install_error
from hwb.hostenv import HostBuildEnv

NAME = "recorded"
FILE_KEY = "isolation.recorded.file"
PIP_ARGS_KEY = "isolation.recorded.pip-args"


# --------------------------------------------------------------------------- hooks: what it offers


@hookimpl
def register_isolation() -> IsolationInfo:
    return IsolationInfo(
        NAME, "a venv made with venv and pip that records what the build installed"
    )


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        FILE_KEY: ConfigKey("path", None, "Write the record of the build environment (JSON) here."),
        PIP_ARGS_KEY: ConfigKey("list", [], "Extra arguments for every pip install."),
    }


@hookimpl
def cli_options(command: str) -> list[CliOption] | None:
    if command != "build":
        return None
    return [
        CliOption(
            ("--record-file",),
            key=FILE_KEY,
            metavar="FILE",
            help="recorded: write the record of the build environment to FILE.",
        )
    ]


# --------------------------------------------------------------------------- the environment


class RecordedEnv(HostBuildEnv):
    """A virtual environment on this machine. ``HostBuildEnv`` supplies ``run`` (output streamed
    at ``-v``, the host's environment without ``PYTHONPATH`` and friends)."""

    isolation = NAME

    def __init__(
        self,
        *,
        python: PythonInfo,
        source_dir: Path,
        reporter: Reporter,
        env_dir: Path,
        pip_args: Sequence[str],
    ) -> None:
        super().__init__(python=python, source_dir=source_dir, reporter=reporter)
        self.env_dir = env_dir
        self.pip_args = list(pip_args)
        self.requested: list[list[str]] = []
        self.path_prefix = [str(self._bindir())]
        self.pip: list[str] = []
        self.extra_environ = {"VIRTUAL_ENV": str(env_dir)}

    def _bindir(self) -> Path:
        return self.env_dir / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python_executable(self) -> str:
        return str(self._bindir() / ("python.exe" if os.name == "nt" else "python"))

    def create(self) -> None:
        # The base interpreter makes the environment; without a usable pip beside hwb,
        # ensurepip puts one in it.
        outer = _outer_pip(self.python.version)
        venv = [self.python.path, "-m", "venv", *(["--without-pip"] if outer else [])]
        process.run(
            [*venv, str(self.env_dir)],
            reporter=self.reporter,
            env=self.environ(),
            what="python -m venv",
            hint=f"check that {self.python.path} has the venv and ensurepip modules",
        )
        own = [self.python_executable, "-m", "pip"]
        self.pip = [*outer, "--python", self.python_executable] if outer else own

    def install(self, requirements: Sequence[str]) -> None:
        if not requirements:
            return
        self.requested.append(list(requirements))
        cmd = [*self.pip, "install", "--disable-pip-version-check"]
        # --build-constraint: the core sets build_constraints while the backend's requirements
        # are installed; every install obeys its pins (and hashes): pip gets its files.
        constraints = self.build_constraints
        with tempfile.TemporaryDirectory(prefix="hwb-recorded-") as tmp:
            args = list(requirements)
            if constraints is not None:
                files = constraints.install_files(requirements, self.python.marker_env, Path(tmp))
                args = files.args()
            try:
                self.run([*cmd, *self.pip_args, *args])
            except BuildError as exc:
                # A hash the file lacks or that does not match, said in hwb's words.
                raise install_error(
                    constraints,
                    exc.details or "",
                    BuildError(
                        "recorded: pip could not install " + ", ".join(requirements),
                        hint="run with -v to see pip's output",
                        details=exc.details,
                    ),
                ) from None

    def installed(self) -> dict[str, str]:
        """``{name: version}`` of every distribution in the environment, read from its files."""
        sites = [
            *self.env_dir.glob("lib/python*/site-packages"),
            self.env_dir / "Lib" / "site-packages",
        ]
        found = metadata.distributions(path=[str(p) for p in sites if p.is_dir()])
        return dict(sorted((d.metadata["Name"], d.version) for d in found))


def _outer_pip(version: str) -> list[str]:
    """``[python, "-m", "pip"]`` for the pip installed beside hwb when it can install into an
    environment of Python ``version`` (pip 22.3 or newer, whose ``Requires-Python`` admits it),
    else ``[]``."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    try:
        found = metadata.metadata("pip")
    except metadata.PackageNotFoundError:
        return []
    if Version(found["Version"]) < Version("22.3"):
        return []
    if not SpecifierSet(found["Requires-Python"] or "").contains(version, prereleases=True):
        return []
    return [sys.executable, "-m", "pip"]


# --------------------------------------------------------------------------- hook: making one


@hookimpl
def create_env(isolation: str, request: EnvRequest) -> AbstractContextManager[RecordedEnv] | None:
    if isolation != NAME:
        return None  # another plugin's strategy
    return _recorded_env(request)


@contextmanager
def _recorded_env(request: EnvRequest) -> Iterator[RecordedEnv]:
    env = RecordedEnv(
        python=request.python,
        source_dir=request.project.root,
        reporter=request.reporter,
        env_dir=request.work_dir / "recorded-env",
        pip_args=request.config.get(PIP_ARGS_KEY),
    )
    request.reporter.step(f"{NAME}: creating a virtual environment with venv and pip")
    outcome = "failed"
    try:
        env.create()
        yield env  # hwb installs the build requirements and runs the backend here
        outcome = "ok"
    finally:
        # Runs after a success, a failure and Ctrl-C alike.
        installed = env.installed() if env.env_dir.exists() else {}
        shutil.rmtree(env.env_dir, ignore_errors=True)
        _write_record(
            request,
            {
                "isolation": NAME,
                "project": request.project.name,
                "python": {"path": env.python.path, "version": env.python.version},
                "requested": env.requested,
                "installed": installed,
                "outcome": outcome,
                "env_dir": str(env.env_dir),
                "env_removed": not env.env_dir.exists(),
            },
        )


def _write_record(request: EnvRequest, record: dict[str, Any]) -> None:
    target = request.config.get(FILE_KEY)
    if target:
        Path(target).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        request.reporter.info(f"{NAME}: record written to {target}")
    else:
        packages = ", ".join(f"{n} {v}" for n, v in record["installed"].items()) or "nothing"
        request.reporter.info(f"{NAME}: the build environment held {packages}")
