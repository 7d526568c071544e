"""A base for build environments whose interpreter runs on this machine (venv, none)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hwb import process
from hwb_core.interfaces import BuildEnv, RunResult

if TYPE_CHECKING:
    from hwb_core.backend_env import BackendEnvironment

# Variables that would let the host's packages leak into an isolated build.
_LEAKY = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "__PYVENV_LAUNCHER__")


def host_environ(rule: BackendEnvironment | None = None) -> dict[str, str]:
    """hwb's variables less the leaky ones, and for a backend's process less what ``rule``
    withholds, with its ``set`` (the same for a process started ahead: ``backend_process``)."""
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    return rule.apply(env) if rule is not None else env


class HostBuildEnv(BuildEnv):
    """Runs commands with the host's environment, minus what breaks isolation."""

    #: Directories put first on PATH (a venv's ``bin``).
    path_prefix: Sequence[str] = ()
    #: Extra variables for every command (``VIRTUAL_ENV``).
    extra_environ: Mapping[str, str] = {}
    #: What the build's target needs (``EnvRequest.extra_env``: ``MACOSX_DEPLOYMENT_TARGET``,
    #: ``ARCHFLAGS``, a Windows table's ``env``), set by the plugin that made the environment.
    target_environ: Mapping[str, str] = {}

    def environ(
        self, extra: Mapping[str, str] | None = None, *, backend: bool = False
    ) -> dict[str, str]:
        """The host's variables less the leaky ones (and, for a ``backend`` process, less those
        that look like credentials, with ``env.set``), then this environment's own."""
        env = host_environ(self._rule() if backend else None)
        if self.path_prefix:
            env["PATH"] = os.pathsep.join([*self.path_prefix, env.get("PATH", "")])
        env.update(self.target_environ)
        env.update(self.extra_environ)
        if extra:
            env.update(extra)
        return env

    def _rule(self) -> BackendEnvironment:
        from hwb_core.backend_env import BackendEnvironment

        return self.backend_environment or BackendEnvironment()

    def run(
        self,
        cmd: Sequence[str],
        *,
        cwd: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> RunResult:
        return process.run(
            cmd,
            reporter=self.reporter,
            cwd=cwd or self.source_dir,
            env=self.environ(extra_env),
            check=check,
        )

    def run_backend_process(
        self,
        cmd: Sequence[str],
        *,
        cwd: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> RunResult:
        env = self.environ(extra_env, backend=True)
        where = cwd or self.source_dir
        ahead = None
        if self.hooks is not None:
            ahead = self.hooks.backend_process(cmd=cmd, cwd=where, environ=env, env=self)
        if ahead is None:
            return process.run(
                cmd, reporter=self.reporter, cwd=where, env=env, what="the build backend"
            )
        self.reporter.debug("$ " + " ".join(str(c) for c in cmd) + "  (started ahead)")
        return process.follow(ahead, cmd, reporter=self.reporter, what="the build backend")
