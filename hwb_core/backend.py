"""The core's PEP 517 driver: the default ``run_backend`` implementation.

It knows nothing of environments beyond :class:`hwb_core.interfaces.BuildEnv`: requirements go
through ``env.install`` and the hook processes (:data:`DRIVER`, which speaks PEP 517 itself)
through ``env.run_backend_process``, with paths as ``env.env_path`` gives them: the same in a
venv and in a container.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hwb_core import deadline
from hwb_core.errors import BackendError, BuildError, BuildTimeout
from hwb_core.interfaces import BuildEnv, Reporter
from hwb_core.project import Project


def build_wheel(
    env: BuildEnv,
    project: Project,
    config_settings: Mapping[str, Any],
    wheel_dir: Path,
    reporter: Reporter,
    *,
    run_hook: Callable[..., object] | None = None,
) -> Path:
    """Build one wheel in ``env``: install ``build-system.requires``, then run :data:`DRIVER`,
    which calls ``get_requires_for_build_wheel`` and, when that asks for nothing more,
    ``build_wheel`` in the same process. Otherwise what it asked for is installed and a second
    driver process calls ``build_wheel`` alone.

    ``run_hook`` is accepted for plugins written before 0.4 and unused: every environment runs the
    hooks through ``env.run_backend_process``, as the driver's first process always did."""
    del run_hook
    if project.build_requires:
        reporter.step("installing build requirements: " + ", ".join(project.build_requires))
        env.install(project.build_requires)
    settings = dict(config_settings) or None
    requires, name = _one_process(env, project, settings, wheel_dir, reporter)
    if name is None:  # the backend asked for more than build-system.requires
        extra = [r for r in requires if r not in project.build_requires]
        if extra:
            reporter.step("installing what the backend asked for: " + ", ".join(extra))
            # An environment may move to another interpreter to hold them (a cached
            # environment is never changed: a different requirement set is another one).
            env.install(extra)
        _, name = _one_process(env, project, settings, wheel_dir, reporter, requires)
    return _built(project, wheel_dir, name)


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
    requires: list[str] | None = None,
) -> tuple[list[str], str | None]:
    """Run :data:`DRIVER`: the backend's requirements and, when nothing new is needed, the
    wheel's file name (else ``None``: ``build_wheel`` is still to run). Given ``requires`` (the
    answer of a first process), the driver calls ``build_wheel`` alone.

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
        driver, after = DRIVER, [(Path(script), arg) for script, arg in env.after_build]
        if not env.on_host:  # the environment sees the control directory, not hwb's files
            driver = Path(shutil.copyfile(DRIVER, control / DRIVER.name))
            after = [
                (Path(shutil.copyfile(script, control / f"after-{n}-{script.name}")), arg)
                for n, (script, arg) in enumerate(after)
            ]
        request.write_text(
            json.dumps(
                {
                    "backend": project.build_backend,
                    "backend_path": project.backend_path,
                    "config_settings": settings,
                    "wheel_directory": env.env_path(Path(os.path.abspath(wheel_dir))),
                    "installed": list(project.build_requires),
                    "after_build": [[env.env_path(script), arg] for script, arg in after],
                    **({} if requires is None else {"requires": requires}),
                }
            ),
            encoding="utf-8",
        )
        reporter.step(f"building wheel with {project.build_backend}")
        # Asked before the hooks run: an environment made on first use (a cached one) is found
        # or made here, and what goes wrong there is its own error, not the backend's.
        cmd = [env.python_executable, *(env.env_path(p) for p in (driver, request, result))]
        try:
            env.run_backend_process(cmd, cwd=env.source_dir)
        except BuildError as exc:
            started = result.is_file() and json.loads(result.read_text()).get("started")
            hook = "build_wheel" if started else "get_requires_for_build_wheel"
            if isinstance(exc, BuildTimeout):
                backend = project.build_backend
                raise deadline.expired(f"the build backend {backend!r} (in {hook})") from None
            raise _failed(project.build_backend, hook, exc) from None
        answer = json.loads(result.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(control, ignore_errors=True)
    if env.on_host and "modules" in answer and requires is None and env.hooks is not None:
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
    return list(answer["requires"]), str(answer["wheel"]) if "wheel" in answer else None


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
