"""Isolation ``none``: build with the chosen interpreter as it is, installing nothing.

Missing build requirements are named in the error. A warning says the build is not isolated.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hwb_core import hookimpl
from hwb_core.errors import BuildError
from hwb_core.hostenv import HostBuildEnv
from hwb_core.interfaces import Capabilities, EnvRequest, IsolationInfo

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

    def missing(self, requirements: Sequence[str]) -> list[str]:
        from packaging.requirements import InvalidRequirement, Requirement
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
        installed = {canonicalize_name(k): v for k, v in json.loads(out.stdout).items() if k}
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


@contextmanager
def _none(request: EnvRequest) -> Iterator[NoIsolationEnv]:
    request.reporter.warn(
        f"isolation none: building with {request.python.path} as it is; the build is not isolated"
    )
    env = NoIsolationEnv(
        python=request.python, source_dir=Path(request.project.root), reporter=request.reporter
    )
    env.target_environ = dict(request.extra_env)  # the target's variables (macOS: ARCHFLAGS, ...)
    yield env
