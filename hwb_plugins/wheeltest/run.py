"""Trying one wheel: decide whether (and what) to run, make the fresh environment, install the
wheel into it, run the test command or the import check from a directory of its own."""

from __future__ import annotations

import fnmatch
import os
import shlex
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from hwb import (
    BuildEnv,
    BuildError,
    ConfigError,
    WheelTestOutcome,
    WheelTestRequest,
    host,
    wheelfile,
)
from hwb_plugins.wheeltest import modules
from hwb_plugins.wheeltest.settings import TestSettings, load


def try_built_wheel(wheel: Path, request: WheelTestRequest) -> WheelTestOutcome | None:
    system = request.target.os if request.target is not None else host.host_os()
    settings = load(request.config, system)
    if settings.command:
        name = "test command"
    elif settings.import_check == "all" or (
        settings.import_check == "platform" and not wheelfile.is_pure(wheel)
    ):
        name = "import check"
    else:
        return None
    for pattern in settings.skip:
        if fnmatch.fnmatch(request.identifier, pattern):
            return WheelTestOutcome(
                name, passed=True, skipped=f"{request.identifier} matches test.skip {pattern!r}"
            )
    reason = _cannot_run_here(request)
    if reason:
        return WheelTestOutcome(name, passed=True, skipped=reason)
    names: list[str] = []
    if not settings.command:
        names = modules.importable(wheelfile.names(wheel))
        if not names:
            return WheelTestOutcome(name, passed=True, skipped="the wheel holds no module")
    return _run(wheel, request, settings, name, names)


def _cannot_run_here(request: WheelTestRequest) -> str | None:
    """Why this machine cannot run the wheel at all, or ``None``. Linux wheels of another
    architecture were built in an isolation that emulates it, and are tried under it too."""
    target = request.target
    if target is None:
        return None
    here = host.host_os()
    if target.os != here:
        return f"a {host.pretty(target.os)} wheel cannot run on this {host.pretty(here)} machine"
    if target.os != "linux" and target.archs:
        arch = host.host_arch(target.os)
        if arch not in target.archs:
            return f"a {target.arch} wheel cannot run on this {arch} machine"
    return None


def _run(
    wheel: Path,
    request: WheelTestRequest,
    settings: TestSettings,
    name: str,
    import_names: Sequence[str],
) -> WheelTestOutcome:
    reporter = request.reporter
    work = request.work_dir
    (work / "wheel").mkdir(parents=True, exist_ok=True)
    copy = work / "wheel" / wheel.name
    shutil.copy2(wheel, copy)
    run_dir = work / "run"
    run_dir.mkdir(exist_ok=True)
    _copy_sources(request.project.root, settings, run_dir)
    started = time.monotonic()
    with request.fresh_env() as env:
        reporter.step(f"trying {wheel.name}: {name} in a fresh {env.describe()}")
        requirements = settings.requires if settings.command else []
        try:
            env.install_wheel(copy, extras=settings.extras, requirements=requirements)
        except BuildError as exc:
            hint = exc.hint if exc.hint and "build-system" not in exc.hint else None
            raise BuildError(
                f"cannot install {wheel.name} for its test ({exc.message})",
                hint=hint
                or "check test.requires and test.extras (-v shows the installer's output)",
                details=exc.details,
            ) from None
        if settings.command:
            argv, shown = command_argv(settings.command, env, request.project.root, copy)
        else:
            argv = [env.python_executable, "-I", "-c", modules.IMPORT_SCRIPT, *import_names]
            shown = "import " + ", ".join(import_names)
        reporter.step(f"running {shown}")
        result = env.run(argv, cwd=run_dir, check=False)
    duration = time.monotonic() - started
    passed = result.returncode == 0
    error = ""
    if not passed:
        if settings.command:
            error = f"test command failed (exit code {result.returncode}): {shown}"
        else:
            error = "the built wheel does not import: " + modules.failures(result.output)
    return WheelTestOutcome(
        name,
        passed=passed,
        command=shown,
        duration_s=duration,
        output=result.output,
        error=error,
    )


def command_argv(
    command: str | list[str], env: BuildEnv, project: Path, wheel: Path
) -> tuple[list[str], str]:
    """The arguments to run and the command as shown: a string runs through the shell (as
    cibuildwheel's ``test-command`` does), with ``{project}`` and ``{wheel}`` quoted paths as
    the environment sees them; a list runs as it is, with the same substitutions."""
    inside = {"project": env.env_path(project), "wheel": env.env_path(wheel)}
    if isinstance(command, str):
        text = command
        for key, value in inside.items():
            text = text.replace("{" + key + "}", shlex.quote(value))
        if env.on_host and os.name == "nt":
            return ["cmd", "/c", text], text
        return ["sh", "-c", text], text
    argv = list(command)
    for key, value in inside.items():
        argv = [a.replace("{" + key + "}", value) for a in argv]
    return argv, shlex.join(argv)


def _copy_sources(root: Path, settings: TestSettings, run_dir: Path) -> None:
    for entry in settings.sources:
        source = (root / entry).resolve()
        if root.resolve() not in source.parents and source != root.resolve():
            raise ConfigError(
                f"test.sources entry {entry!r} ({settings.source}) is outside the project",
                hint="name files and directories relative to the project's root",
            )
        if not source.exists():
            raise ConfigError(
                f"test.sources entry {entry!r} does not exist in {root}",
                hint="name files and directories relative to the project's root",
            )
        dest = run_dir / source.relative_to(root.resolve())
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(source, dest)
