"""The core's PEP 517 driver: the default ``run_backend`` implementation.

It knows nothing of environments beyond :class:`hwb_core.interfaces.BuildEnv`: requirements go
through ``env.install`` and the hook subprocess through ``env.run``.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hwb_core.errors import BackendError, BuildError
from hwb_core.interfaces import BuildEnv, Reporter
from hwb_core.project import Project

#: Runs one pyproject-hooks subprocess: ``(cmd, cwd, extra_environ)`` with host paths.
HookRunner = Callable[[Sequence[str], Path | None, Mapping[str, str] | None], object]


def build_wheel(
    env: BuildEnv,
    project: Project,
    config_settings: Mapping[str, Any],
    wheel_dir: Path,
    reporter: Reporter,
    *,
    run_hook: HookRunner | None = None,
) -> Path:
    """``run_hook`` replaces ``env.run`` for the hook subprocesses: an environment that cannot
    see host paths (a container) passes one that translates them."""
    from pyproject_hooks import BuildBackendHookCaller

    backend = project.build_backend
    if project.build_requires:
        reporter.step("installing build requirements: " + ", ".join(project.build_requires))
        env.install(project.build_requires)

    settings = dict(config_settings) or None
    # On the host, get_requires_for_build_wheel and build_wheel run in one process when the
    # backend asks for nothing new (see _driver/hook_driver.py); a container keeps one each.
    combined = _Combined(project, settings, wheel_dir) if run_hook is None and env.on_host else None

    def runner(
        cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        hook_name = cmd[2] if len(cmd) > 2 else "hook"
        if combined is not None:
            if hook_name == "get_requires_for_build_wheel":
                cmd = combined.command(cmd)
            elif hook_name == "build_wheel" and combined.take(cmd):
                return
        try:
            if run_hook is not None:
                run_hook(cmd, Path(cwd) if cwd else None, extra_environ)
            else:
                env.run(cmd, cwd=Path(cwd) if cwd else None, extra_env=extra_environ)
        except BuildError as exc:
            if combined is not None and combined.build_started():
                hook_name = "build_wheel"
            raise BackendError(
                f"the build backend {backend!r} failed in {hook_name}",
                hint="the output above (or -v) shows why",
                details=exc.details,
            ) from None

    hooks = BuildBackendHookCaller(
        str(env.source_dir),
        backend,
        backend_path=project.backend_path,
        runner=runner,
        python_executable=env.python_executable,
    )
    # Backend warnings are the backend's output, not hwb's own warnings. They are routed per
    # thread: warnings.catch_warnings() swaps process-wide state, which parallel builds
    # (hwb matrix) would clobber.
    _route_backend_warnings()
    previous = getattr(_current, "reporter", None)
    _current.reporter = reporter
    try:
        return _call(hooks, project, env, settings, wheel_dir, reporter)
    finally:
        _current.reporter = previous
        if combined is not None:
            combined.cleanup()


DRIVER = Path(__file__).resolve().parent / "_driver" / "hook_driver.py"


class _Combined:
    """``build_wheel`` run by the ``get_requires_for_build_wheel`` process (hook_driver.py):
    its result waits in a control directory of ours until pyproject-hooks asks for it."""

    def __init__(self, project: Project, settings: dict[str, Any] | None, wheel_dir: Path) -> None:
        import json
        import os
        import tempfile

        self.dir = Path(tempfile.mkdtemp(prefix="hwb-hooks-"))
        self.kwargs = {
            "wheel_directory": os.path.abspath(wheel_dir),
            "config_settings": settings,
            "metadata_directory": None,
        }
        self.base = self.dir / "base.json"
        self.base.write_text(json.dumps(list(project.build_requires)), encoding="utf-8")
        self.build_dir = self.dir / "build"
        self.build_dir.mkdir()
        (self.build_dir / "input.json").write_text(
            json.dumps({"kwargs": self.kwargs}), encoding="utf-8"
        )
        wheel_dir.mkdir(parents=True, exist_ok=True)

    def command(self, cmd: Sequence[str]) -> list[str]:
        """``[python, _in_process.py, get_requires_for_build_wheel, control_dir]`` becomes the driver."""
        python, script, _hook, control_dir = cmd[:4]
        return [python, str(DRIVER), script, control_dir, str(self.build_dir), str(self.base)]

    def build_started(self) -> bool:
        return (self.build_dir / "started").exists()

    def take(self, cmd: Sequence[str]) -> bool:
        """Hand the finished ``build_wheel`` over, when it ran for these very arguments."""
        import json
        import shutil

        output = self.build_dir / "output.json"
        if len(cmd) < 4 or not output.is_file():
            return False
        try:
            asked = json.loads((Path(cmd[3]) / "input.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if asked != json.loads(json.dumps({"kwargs": self.kwargs})):
            return False
        shutil.copyfile(output, Path(cmd[3]) / "output.json")
        output.unlink()
        return True

    def cleanup(self) -> None:
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


_current = threading.local()
_route_lock = threading.Lock()


def _route_backend_warnings() -> None:
    """Install (once) a ``warnings.showwarning`` that hands pyproject-hooks'
    ``BuildBackendWarning`` to the reporter of the build running in the warning's thread."""
    with _route_lock:
        original = warnings.showwarning
        if getattr(original, "hwb_routes_backend_warnings", False):
            return

        def show(
            message: Any,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: Any = None,
            line: str | None = None,
        ) -> None:
            reporter = getattr(_current, "reporter", None)
            if reporter is not None and category.__name__ == "BuildBackendWarning":
                reporter.output(f"backend warning: {message}")
                return
            original(message, category, filename, lineno, file, line)

        show.hwb_routes_backend_warnings = True  # type: ignore[attr-defined]
        warnings.showwarning = show


def _call(
    hooks: Any,
    project: Project,
    env: BuildEnv,
    settings: dict[str, Any] | None,
    wheel_dir: Path,
    reporter: Reporter,
) -> Path:
    from pyproject_hooks import BackendUnavailable, HookMissing

    backend = project.build_backend
    try:
        extra = hooks.get_requires_for_build_wheel(settings)
        extra = [r for r in extra if r not in project.build_requires]
        if extra:
            reporter.step("installing what the backend asked for: " + ", ".join(extra))
            env.install(extra)
            # An environment may move to another interpreter to hold them (a cached
            # environment is never changed: a different requirement set is another one).
            hooks.python_executable = env.python_executable
        reporter.step(f"building wheel with {backend}")
        wheel_dir.mkdir(parents=True, exist_ok=True)
        name = hooks.build_wheel(str(wheel_dir), settings)
    except BackendUnavailable as exc:
        message = str(exc).split("\n\nTraceback")[0]
        last = exc.traceback.strip().splitlines()[-1] if exc.traceback.strip() else message
        raise BackendError(
            f"build-backend {backend!r} could not be imported ({last})",
            hint="check [build-system] build-backend and requires in pyproject.toml",
        ) from None
    except HookMissing as exc:
        raise BackendError(f"build-backend {backend!r} has no {exc.hook_name} hook") from None
    path: Path = wheel_dir / str(name)
    if not path.is_file():
        raise BackendError(f"build-backend {backend!r} reported {name!r} but wrote no such file")
    return path
