"""The hooks of the backend started ahead (:mod:`hwb_plugins.prestart`); the work is in
:mod:`.ahead`."""

from __future__ import annotations

import subprocess
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

from hwb import BackendEnvironment, BuildEnv, hookimpl
from hwb_plugins.prestart import ahead


@hookimpl
def build_work_dir() -> Path:
    return ahead.work_dir()


@hookimpl
def backend_process(
    cmd: Sequence[str], cwd: Path, environ: Mapping[str, str], env: BuildEnv
) -> subprocess.Popen[str] | None:
    rule = env.backend_environment or BackendEnvironment()
    return ahead.adopt(cmd, cwd, environ, rule)


@hookimpl
def backend_imported(backend: str, modules: Sequence[str], paths: Sequence[str]) -> None:
    ahead.remember(backend, modules, paths)


@hookimpl(wrapper=True)
def select_isolation() -> Generator[None, Any, Any]:
    """``--isolation auto`` is choosing: the next run may choose otherwise (a container), so
    this one keeps no plan."""
    ahead.forget()
    return (yield)
