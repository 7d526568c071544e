"""Isolation ``none``: build with the chosen interpreter as it is, installing nothing.

Missing build requirements are named in the error. A warning says the build is not isolated.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hwb import BuildError, Capabilities, EnvRequest, IsolationInfo, hookimpl, process
from hwb.hostenv import HostBuildEnv

NAME = "none"

# Lists installed distributions; runs under the target interpreter (3.8+).
_LIST_DISTS = r"""
import json
from importlib import metadata
print(json.dumps({(d.metadata["Name"] or ""): d.version for d in metadata.distributions()}))
"""


@hookimpl
def register_isolation() -> IsolationInfo:
    return IsolationInfo(
        NAME,
        "the chosen interpreter as it is; nothing installed (not isolated)",
        capabilities=Capabilities(native=True, isolated=False, rank=90),
    )


class NoIsolationEnv(HostBuildEnv):
    isolation = NAME

    @property
    def python_executable(self) -> str:
        return self.python.path

    def install(self, requirements: Sequence[str]) -> None:
        missing = self.missing(requirements)
        if missing:
            raise BuildError(
                f"build requirements missing from {self.python.path}: " + ", ".join(missing),
                hint=f"install them into that interpreter ({self.python.path} -m pip install ...) or use --isolation venv",
            )
        constraints = self.build_constraints
        if constraints is None:
            return
        # Nothing is installed here: the interpreter's packages must be within the pins.
        outside = constraints.violations(self.installed(), self.python.marker_env)
        if outside:
            raise BuildError(
                f"packages of {self.python.path} are outside the build constraints "
                f"({constraints.path}): " + ", ".join(outside),
                hint=f"install the pinned versions ({self.python.path} -m pip install -c "
                f"{constraints.path} ...) or use --isolation venv",
            )
        if constraints.hashed:
            self.reporter.warn(
                f"isolation none installs nothing: the hashes in {constraints.path} are not "
                "checked, only the versions"
            )

    def installed(self) -> dict[str, str]:
        """The interpreter's distributions: canonical name to version."""
        from packaging.utils import canonicalize_name

        out = subprocess.run(
            [self.python.path, "-c", _LIST_DISTS],
            capture_output=True,
            text=True,
            env=self.environ(),
            stdin=subprocess.DEVNULL,
        )
        if out.returncode != 0:
            raise BuildError(f"cannot list the packages of {self.python.path}", details=out.stderr)
        return {canonicalize_name(k): v for k, v in json.loads(out.stdout).items() if k}

    def missing(self, requirements: Sequence[str]) -> list[str]:
        from packaging.requirements import InvalidRequirement, Requirement
        from packaging.utils import canonicalize_name

        installed = self.installed()
        missing = []
        for text in requirements:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                missing.append(f"{text} (not a valid requirement)")
                continue
            if req.marker and not req.marker.evaluate(dict(self.python.marker_env)):
                continue
            have = installed.get(canonicalize_name(req.name))
            if have is None:
                missing.append(f"{text} (not installed)")
            elif req.specifier and not req.specifier.contains(have, prereleases=True):
                missing.append(f"{text} (found {have})")
        return missing


@hookimpl
def create_env(isolation: str, request: EnvRequest) -> object | None:
    if isolation != NAME:
        return None
    return _none(request)


class TestVenv(HostBuildEnv):
    """Where a wheel built without isolation is tried: a throwaway virtual environment of the
    same interpreter that sees its packages (``--system-site-packages``, as the build did), so
    the wheel is installed there and never into the interpreter itself."""

    __test__ = False  # not a pytest class
    isolation = NAME

    def __init__(self, *, env_dir: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.env_dir = env_dir
        bin_dir = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
        self.path_prefix = [str(bin_dir)]
        self.extra_environ = {"VIRTUAL_ENV": str(env_dir)}
        self.uv = _uv()

    @property
    def python_executable(self) -> str:
        return str(
            Path(self.path_prefix[0]) / ("python.exe" if sys.platform == "win32" else "python")
        )

    def create(self) -> None:
        base = self.python.path
        if self.uv:
            cmd = [self.uv, "venv", "--quiet", "--no-config", "--system-site-packages"]
            cmd += ["--python", base, str(self.env_dir)]
        else:
            cmd = [base, "-m", "venv", "--system-site-packages", str(self.env_dir)]
        process.run(
            cmd, reporter=self.reporter, env=self.environ(), what="making the test environment"
        )

    def install(self, requirements: Sequence[str]) -> None:
        if self.uv:
            cmd = [self.uv, "pip", "install", "--python", self.python_executable, *requirements]
        else:
            cmd = [self.python_executable, "-m", "pip", "install", *requirements]
        process.run(cmd, reporter=self.reporter, env=self.environ(), what="installing for the test")


def _uv() -> str | None:
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


@contextmanager
def _test_env(request: EnvRequest) -> Iterator[TestVenv]:
    env = TestVenv(
        env_dir=request.work_dir / "env",
        python=request.python,
        source_dir=Path(request.project.root),
        reporter=request.reporter,
    )
    env.target_environ = dict(request.extra_env)
    try:
        env.create()
        yield env
    finally:
        shutil.rmtree(env.env_dir, ignore_errors=True)


@contextmanager
def _none(request: EnvRequest) -> Iterator[HostBuildEnv]:
    if request.purpose == "test":
        with _test_env(request) as tried:
            yield tried
        return
    request.reporter.warn(
        f"isolation none: building with {request.python.path} as it is; the build is not isolated"
    )
    env = NoIsolationEnv(
        python=request.python, source_dir=Path(request.project.root), reporter=request.reporter
    )
    env.target_environ = dict(request.extra_env)  # the target's variables (macOS: ARCHFLAGS, ...)
    yield env
