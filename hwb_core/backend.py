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

from hwb_core import deadline
from hwb_core.backend_env import BackendEnvironment
from hwb_core.errors import BackendError, BuildError, BuildTimeout
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
    backend = project.build_backend
    if project.build_requires:
        reporter.step("installing build requirements: " + ", ".join(project.build_requires))
        env.install(project.build_requires)

    settings = dict(config_settings) or None

    def runner(
        cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        hook_name = cmd[2] if len(cmd) > 2 else "hook"
        try:
            if run_hook is not None:  # an environment apart from the host: env.set only
                rule = env.backend_environment or BackendEnvironment()
                run_hook(cmd, Path(cwd) if cwd else None, {**(extra_environ or {}), **rule.set})
            else:
                env.run_backend_process(
                    cmd, cwd=Path(cwd) if cwd else None, extra_env=extra_environ
                )
        except BuildTimeout:
            raise deadline.expired(f"the build backend {backend!r} (in {hook_name})") from None
        except BuildError as exc:
            raise _failed(backend, hook_name, exc) from None

    # Asked before any hook runs: an environment made on first use (a cached one) is found or
    # made here, and what goes wrong there is its own error, not the backend's.
    python = env.python_executable

    def pyproject_hooks() -> Any:
        # Imported only when the driver's one process was not enough (most builds need no more).
        from pyproject_hooks import BuildBackendHookCaller

        return BuildBackendHookCaller(
            str(env.source_dir),
            backend,
            backend_path=project.backend_path,
            runner=runner,
            python_executable=python,
        )

    # Backend warnings are the backend's output, not hwb's own warnings. They are routed per
    # thread: warnings.catch_warnings() swaps process-wide state, which parallel builds
    # (hwb matrix) would clobber.
    _route_backend_warnings()
    previous = getattr(_current, "reporter", None)
    _current.reporter = reporter
    try:
        # Both hooks run in one process when the backend asks for nothing new
        # (_driver/hook_driver.py); else build_wheel runs in a second one, pyproject-hooks'.
        requires, name = _one_process(env, project, settings, wheel_dir, reporter)
        if name is not None:
            return _built(project, wheel_dir, name)
        return _call(pyproject_hooks(), project, env, settings, wheel_dir, reporter, requires)
    finally:
        _current.reporter = previous


DRIVER = Path(__file__).resolve().parent / "_driver" / "hook_driver.py"


def _failed(backend: str, hook_name: str, exc: BuildError) -> BackendError:
    return BackendError(
        f"the build backend {backend!r} failed in {hook_name}",
        hint="the output above (or -v) shows why",
        details=exc.details,
    )


def _one_process(
    env: BuildEnv,
    project: Project,
    settings: dict[str, Any] | None,
    wheel_dir: Path,
    reporter: Reporter,
) -> tuple[list[str], str | None]:
    """Run :data:`DRIVER`: the backend's requirements and, when nothing new is needed, the
    wheel's file name (else ``None``: ``build_wheel`` is still to run).

    The driver, its request and its result live in a control directory beside the wheel
    directory (in the build's work directory), named as the environment sees them
    (``env_path``): an environment apart from the host (a container) sees them there as it
    sees the wheel directory."""
    import json
    import os
    import shutil
    import tempfile

    wheel_dir.mkdir(parents=True, exist_ok=True)
    control = Path(tempfile.mkdtemp(prefix="hwb-hooks-", dir=wheel_dir.parent))
    try:
        request, result = control / "request.json", control / "result.json"
        driver = DRIVER
        if not env.on_host:
            driver = Path(shutil.copyfile(DRIVER, control / DRIVER.name))
            shutil.copyfile(DRIVER.with_name("distributions.py"), control / "distributions.py")
        distributions = control / "distributions.json"
        request.write_text(
            json.dumps(
                {
                    "backend": project.build_backend,
                    "backend_path": project.backend_path,
                    "config_settings": settings,
                    "wheel_directory": env.env_path(Path(os.path.abspath(wheel_dir))),
                    "installed": list(project.build_requires),
                    "distributions": env.env_path(distributions),
                }
            ),
            encoding="utf-8",
        )
        reporter.step(f"building wheel with {project.build_backend}")
        try:
            paths = [env.env_path(path) for path in (driver, request, result)]
            env.run_backend_process([env.python_executable, *paths], cwd=env.source_dir)
        except BuildError as exc:
            started = result.is_file() and json.loads(result.read_text()).get("started")
            hook = "build_wheel" if started else "get_requires_for_build_wheel"
            if isinstance(exc, BuildTimeout):
                backend = project.build_backend
                raise deadline.expired(f"the build backend {backend!r} (in {hook})") from None
            raise _failed(project.build_backend, hook, exc) from None
        answer = json.loads(result.read_text(encoding="utf-8"))
        if distributions.is_file():
            env.distributions_seen = json.loads(distributions.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(control, ignore_errors=True)
    if env.on_host and "modules" in answer and env.hooks is not None:
        modules, paths = answer["modules"], answer.get("paths", [])
        env.hooks.backend_imported(
            env=env, backend=project.build_backend, modules=modules, paths=paths
        )
    if answer.get("restarted"):
        reporter.debug(f"the process started ahead started afresh: {answer['restarted']}")
    if "unavailable" in answer:
        raise _unavailable(project.build_backend, str(answer["unavailable"]))
    for message in answer.get("warnings", []):
        reporter.output(f"backend warning: {message}")
    return list(answer["requires"]), answer.get("wheel")


def _unavailable(backend: str, trace: str) -> BackendError:
    last = trace.strip().splitlines()[-1] if trace.strip() else "no traceback"
    return BackendError(
        f"build-backend {backend!r} could not be imported ({last})",
        hint="check [build-system] build-backend and requires in pyproject.toml",
    )


def _built(project: Project, wheel_dir: Path, name: object) -> Path:
    """The wheel the backend says it wrote: a plain file name in ``wheel_dir``, a regular file
    there (never a link: a backend in a container could point one at a file of the host)."""
    import os
    import stat

    text = str(name)
    path: Path = wheel_dir / text
    if os.path.basename(text) != text or text in ("", ".", "..") or not text.endswith(".whl"):
        raise BackendError(
            f"build-backend {project.build_backend!r} reported {text!r}, which is not the file "
            "name of a wheel in the wheel directory",
            hint="a backend returns the base name of the .whl file it wrote",
        )
    try:
        mode = path.lstat().st_mode
    except OSError:
        mode = 0
    if not stat.S_ISREG(mode):
        what = "a link or special file" if mode else "no such file"
        raise BackendError(
            f"build-backend {project.build_backend!r} reported {text!r} but wrote {what}",
            hint="the backend must write the wheel itself into the wheel directory",
        )
    return path


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
    requires: list[str] | None = None,
) -> Path:
    """Both hooks through pyproject-hooks, or only ``build_wheel`` when ``requires`` (the
    answer of ``get_requires_for_build_wheel``) is known already."""
    from pyproject_hooks import BackendUnavailable, HookMissing

    backend = project.build_backend
    try:
        if requires is None:
            requires = list(hooks.get_requires_for_build_wheel(settings))
        extra = [r for r in requires if r not in project.build_requires]
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
        raise _unavailable(backend, exc.traceback or str(exc).split("\n\nTraceback")[0]) from None
    except HookMissing as exc:
        raise BackendError(f"build-backend {backend!r} has no {exc.hook_name} hook") from None
    return _built(project, wheel_dir, name)
