"""The one way from a request to a published wheel, inside the ``build`` hook's wrappers.

    request -> prepare_source -> Project -> Config -> find_python -> select_isolation
            -> build_log -> private_source -> create_env -> backend_env_rule
            -> backend_environment
            -> run_backend -> repair_stage -> try_wheel -> publish_files
            -> publish (atomic, with the files beside the wheel) -> wheel_built

``hwb build`` runs it once, ``hwb matrix`` once per job.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from hwb_core import (
    deadline,
    host,
    isolation,
    pythons,
    wheelfile,
    wheeltest,
)
from hwb_core import target as targets
from hwb_core.backend_env import BackendEnvironment
from hwb_core.config import Config, load_config
from hwb_core.errors import (
    BuildError,
    BuildTimeout,
    ConfigError,
    HwbError,
    IsolationUnavailable,
    UsageError,
)
from hwb_core.interfaces import (
    BuildEnv,
    BuildResult,
    EnvRequest,
    IsolationChoice,
    PythonInfo,
    RepairResult,
    Reporter,
    Scope,
)
from hwb_core.plugins import PluginManager
from hwb_core.project import Project


@dataclasses.dataclass
class BuildRequest:
    """What the user asked for. ``overrides`` are configuration keys set on the command line."""

    source: Path
    outdir: Path | None = None
    python: str | None = None
    isolation: str | None = None
    config_settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    keep_log: bool = False
    """Write everything the build reports, in full, to a log file in hwb's cache directory
    (``hwb build`` does; ``hwb matrix`` keeps a log per job itself)."""
    rebuild: bool = False
    """The second build of ``--check-reproducible``: in fresh environments, untried, and
    announced to no plugin (no ``publish_files``, no ``wheel_built``)."""


class Session:
    """Plugins, environment and reporter shared by every build of one command."""

    def __init__(
        self,
        pm: PluginManager,
        reporter: Reporter,
        environ: Mapping[str, str] | None = None,
        scope: Scope | None = None,
    ) -> None:
        self.pm = pm
        self.reporter = reporter
        self.environ = dict(os.environ if environ is None else environ)
        self.scope = scope
        """What outlives one build, when a command runs several (``hwb matrix``): their work
        directories, and what isolations keep for the next build (``EnvRequest.scope``)."""

    def config_for(
        self, project: Project | None, overrides: Mapping[str, Any] | None = None
    ) -> Config:
        tool_hwb = project.tool_hwb if project else {}
        if project is not None:
            modules = tool_hwb.get("plugins", [])
            if modules:
                if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
                    raise ConfigError(
                        f"plugins in [tool.hwb] of {project.pyproject_path} must be a list of module names"
                    )
                seen = set(self.pm.records)
                self.pm.load_project_plugins(project.root, modules)
                # Entry-point failures were reported before the build; these are new.
                for name in sorted(set(self.pm.records) - seen):
                    record = self.pm.records[name]
                    if record.status == "failed":
                        self.reporter.warn(
                            f"project plugin {name!r} (from {project.root}) failed to load: {record.error}"
                        )
        ignored = [r.name for r in self.pm.records.values() if r.status != "loaded"]
        return load_config(
            self.pm.schema(),
            tool_hwb=tool_hwb,
            pyproject_path=project.pyproject_path if project else None,
            environ=self.environ,
            overrides={k: v for k, v in (overrides or {}).items() if v is not None},
            ignored_names=ignored,
        )


@contextlib.contextmanager
def prepared_source(
    source: Path, session: Session, overrides: Mapping[str, Any] | None = None
) -> Iterator[Path]:
    """Yield the project root for ``source``, as the ``prepare_source`` hook makes it (a
    directory itself, an sdist extracted), with the configuration of the environment and
    ``overrides`` (the command line)."""
    if not source.exists():
        raise UsageError(
            f"source {source} does not exist", hint="give a project directory or an sdist (.tar.gz)"
        )
    config = session.config_for(None, overrides)
    manager = session.pm.hook.prepare_source(
        source=source, config=config, reporter=session.reporter
    )
    if manager is None and not source.is_dir():
        raise _nobody(session.pm, f"no plugin prepares {source} (not a directory) for a build")
    with manager or contextlib.nullcontext(source.resolve()) as root:
        yield root


def _nobody(pm: PluginManager, what: str) -> UsageError:
    """The error for a job no plugin did, naming the plugins that were blocked."""
    blocked = sorted(r.name for r in pm.records.values() if r.status == "blocked")
    hint = f"blocked plugins: {', '.join(blocked)}" if blocked else "is a plugin missing?"
    return UsageError(what, hint=hint)


def check_outdir(outdir: Path) -> None:
    """Create ``outdir`` if needed and prove it writable, before any time is spent building."""
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=outdir, prefix=".hwb-probe-"):
            pass
    except OSError as exc:
        raise UsageError(
            f"output directory {outdir} cannot be written ({exc.strerror or exc})",
            hint="choose another with -o/--outdir or fix its permissions",
        ) from None


def _copy_regular(source: Path, target: Path) -> None:
    """Copy ``source`` unless it is a link or not a regular file (a build in a container
    writes where the wheel is taken from: a link there could name any file of the host)."""
    import stat

    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if source.is_symlink():
            raise BuildError(
                f"{source.name} is a link, not a wheel: nothing was published",
                hint="the build must write the wheel itself, not a link to another file",
            ) from None
        raise exc
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise BuildError(f"{source.name} is not a regular file: nothing was published")
        with open(target, "wb") as out:
            shutil.copyfileobj(stream, out)


def publish(
    wheel: Path, outdir: Path, beside: Mapping[str, bytes] | None = None
) -> tuple[Path, list[Path]]:
    """Move ``wheel`` into ``outdir`` atomically: a reader never sees a partial wheel. Files
    ``beside`` it (name: content, the ``publish_files`` hook) are written first under
    temporary names and renamed into place right after the wheel; when anything fails, none
    of them, and not the wheel, is left behind. Returns the wheel's path and theirs."""
    final = outdir / wheel.name
    staged: list[tuple[Path, Path]] = []  # (temporary, final)
    done: list[Path] = []
    try:
        for name, content in [(wheel.name, None), *sorted((beside or {}).items())]:
            if "/" in name or "\\" in name or name in ("", ".", ".."):
                raise BuildError(f"a plugin asked to publish {name!r} beside the wheel")
            fd, tmp_name = tempfile.mkstemp(dir=outdir, prefix=f".{name}.", suffix=".part")
            os.close(fd)
            staged.append((Path(tmp_name), outdir / name))
            if content is None:
                _copy_regular(wheel, Path(tmp_name))
            else:
                Path(tmp_name).write_bytes(content)
            os.chmod(tmp_name, 0o644 & ~_umask())
        for tmp, target in staged:
            os.replace(tmp, target)
            done.append(target)
    except BaseException as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for path in done:  # the wheel and what was renamed after it
            path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise BuildError(
                f"could not publish {wheel.name} into {outdir} ({exc.strerror or exc})",
                hint="check the output directory: free space, permissions, what is in the way",
            ) from None
        raise
    return final, done[1:]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def with_target(config: Config, pm: PluginManager, name: str, target: targets.Target) -> Config:
    """A Linux target asked for with ``--platform`` reaches the chosen strategy through the
    key its capabilities name for it (as an OCI platform, ``linux/arm64``), unless the user
    set that key."""
    key = pm.isolations()[name].capabilities.target_key if name in pm.isolations() else None
    if not (target.asked and target.os == "linux" and target.arch and key):
        return config
    if key not in config.schema or config.source(key) != "default":
        return config
    value = host.oci_platform(target.arch)
    return config.with_overrides({key: value}, "--platform") if value else config


def resolve_outdir(request: BuildRequest, config: Config, root: Path) -> Path:
    """Where wheels go: ``-o``, else ``outdir`` from the configuration, else ``dist/`` in a
    source directory or beside an sdist. A relative ``outdir`` from pyproject.toml is relative
    to the project, which for an sdist means the directory holding it (the extracted tree is
    temporary); from ``-o`` or ``HWB_OUTDIR``, to the current directory."""
    beside_sdist = request.source.resolve().parent
    if request.outdir:
        return Path(request.outdir).absolute()
    value = config.get("outdir")
    if value:
        outdir = Path(value)
        from_pyproject = config.source("outdir").endswith("pyproject.toml")
        if not outdir.is_absolute() and from_pyproject:
            outdir = (root if request.source.is_dir() else beside_sdist) / outdir
        return outdir.absolute()
    if request.source.is_dir():
        return (root / "dist").absolute()
    return beside_sdist


def build(request: BuildRequest, session: Session) -> BuildResult:
    """Build, repair and publish one wheel. Raises :class:`HwbError` on any expected failure
    (with the path of the build's log in ``log`` once there is one), within
    the ``build`` hook's wrappers around it (``--check-reproducible``)."""
    log: list[Path] = []

    def core(request: BuildRequest, session: Session) -> BuildResult:
        return _build(request, session, log)

    try:
        result: BuildResult = session.pm.hook.build.call_extra(
            [core], {"request": request, "session": session}
        )
        return result
    except HwbError as exc:
        # A plugin that words a failed step its own way (could not prepare ...) hides the time
        # limit that stopped it: the limit is what the user must hear of, with its exit code.
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, BuildTimeout):
            cause = cause.__cause__ or cause.__context__
        error = cause if isinstance(cause, BuildTimeout) else exc
        if log:
            error.log = str(log[0])
        error.details = error.details or exc.details
        if error is exc and "No space left on device" in (exc.details or ""):
            # An installer's words, not the project's: "check the names" would mislead.
            exc.hint = f"{_free_tmp_hint()} (the output says which disk)"
        if error is exc:
            raise
        raise error from None
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise no_room(exc) from None


def _free_tmp_hint() -> str:
    tmp = os.path.realpath(tempfile.gettempdir())
    return f"free space in {tmp}, or point TMPDIR at a directory with room"


def no_room(exc: OSError) -> HwbError:
    """The error for a full disk: the directory (the temporary one, when it is in there) and
    the fix."""
    path = os.path.abspath(str(exc.filename2 or exc.filename or tempfile.gettempdir()))
    tmp = os.path.realpath(tempfile.gettempdir())
    if os.path.commonpath([os.path.realpath(path), tmp]) == tmp:
        return HwbError(f"no space left in the temporary directory {tmp}", hint=_free_tmp_hint())
    return HwbError(f"no space left for {path}", hint="free space on its disk")


def _build(request: BuildRequest, session: Session, log: list[Path]) -> BuildResult:
    """The core's build: the named stages below, in order."""
    started = time.monotonic()
    pm = session.pm
    with contextlib.ExitStack() as stack:
        root = stack.enter_context(prepared_source(request.source, session, request.overrides))
        project = Project.load(root)
        config = session.config_for(project, _overrides(request))
        build_constraints = pm.build_constraints(config, project)
        asked = config.get("isolation.strategy")
        # An isolation asked for by name that brings its own interpreters (a container's
        # image) needs none on this machine: the version asked for stands in.
        python = pythons.find(pm, config, config.get("python"), asked)
        target = targets.resolve(
            pm, config.get(targets.TARGET_KEY), config, python, session.environ
        )
        stack.enter_context(deadline.limit(config.get("timeout")))
        foreign = target.arch if target.asked and target.os == "linux" else None
        choice = isolation.choose(pm, session.reporter, project, python, config, asked, foreign)
        outdir = resolve_outdir(request, config, root)
        check_outdir(outdir)
        session = _with_log(stack, request, session, project, python, choice.name, log)
        backend_env: dict[str, str] = {}
        for found in pm.hook.prepare_target(
            target=target, project=project, environ=session.environ, reporter=session.reporter
        ):
            backend_env.update(found or {})
        if session.scope is not None:
            work = session.scope.work_dir()
        else:
            work = pm.work_dir()
        stack.callback(shutil.rmtree, work, True)
        _announce(pm, session.reporter, project, python, choice, target)
        project = _private_source(stack, session, request, config, project, outdir, work)
        fresh = request.rebuild or any(pm.hook.fresh_environments(config=config))

        def env_request(name: str) -> EnvRequest:
            return EnvRequest(
                python=python,
                project=project,
                config=with_target(config, pm, name, target),
                reporter=session.reporter,
                work_dir=work,
                extra_env=backend_env,
                fresh=fresh,
                scope=session.scope,
            )

        env, made, choice = _make_env(stack, session, choice, asked, config, env_request)
        if env.python.path != python.path:  # the environment's own (a container's image)
            python = env.python
            session.reporter.step(f"the environment's interpreter: {python.describe()}")
        target = targets.check_environment(target, env)
        epoch = _backend_environment(session, env, request.source, made.config, target, work)
        stack.enter_context(wheelfile.using(epoch))
        result = _make_wheel(
            stack, session, request, env, made, python, choice, target, build_constraints
        )
        result.duration_s = time.monotonic() - started
        result.log = log[0] if log else None
        result.source_date_epoch = epoch
        _publish(session, request, result, outdir)
        return result
    raise AssertionError("unreachable")  # pragma: no cover


def _overrides(request: BuildRequest) -> dict[str, Any]:
    """The command line's settings: ``--python`` and ``--isolation`` are keys too."""
    overrides = dict(request.overrides)
    if request.python:
        overrides["python"] = request.python
    if request.isolation:
        overrides["isolation.strategy"] = request.isolation
    return overrides


def _with_log(
    stack: contextlib.ExitStack,
    request: BuildRequest,
    session: Session,
    project: Project,
    python: PythonInfo,
    isolation: str,
    log: list[Path],
) -> Session:
    """The session whose reporter also writes the build's log (the ``build_log`` hook), if a
    plugin keeps one."""
    manager = session.pm.hook.build_log(
        request=request,
        project=project,
        python=python,
        isolation=isolation,
        reporter=session.reporter,
    )
    if manager is None:
        return session
    path, reporter = stack.enter_context(manager)
    log.append(path)
    return Session(session.pm, reporter, session.environ, session.scope)


def _announce(
    pm: PluginManager,
    reporter: Reporter,
    project: Project,
    python: PythonInfo,
    choice: IsolationChoice,
    target: targets.Target,
) -> None:
    caps = pm.isolations()[choice.name].capabilities if choice.name in pm.isolations() else None
    # A container builds with its image's interpreter, known once it runs: name the version.
    wanted = f"Python {python.short_version}" if caps and caps.container else python.describe()
    reporter.step(f"building {project.name} for {wanted} in {choice.name} ({choice.reason})")
    if target.os != "linux":
        reporter.step(f"target: {target.describe()}")


def _private_source(
    stack: contextlib.ExitStack,
    session: Session,
    request: BuildRequest,
    config: Config,
    project: Project,
    outdir: Path,
    work: Path,
) -> Project:
    """The project the build works in (the ``private_source`` hook)."""
    manager = session.pm.hook.private_source(
        project=project,
        source=request.source,
        config=config,
        outdir=outdir,
        work_dir=work,
        reporter=session.reporter,
    )
    if manager is None:
        raise _nobody(session.pm, f"no plugin gave the build of {request.source} a tree to work in")
    root = stack.enter_context(manager)
    return project if root == project.root else Project.load(root)


def _make_env(
    stack: contextlib.ExitStack,
    session: Session,
    choice: IsolationChoice,
    asked: str,
    config: Config,
    env_request: Callable[[str], EnvRequest],
) -> tuple[BuildEnv, EnvRequest, IsolationChoice]:
    """The build environment (``create_env``), and the request and choice that made it: when
    auto's choice cannot make one, the next of its fallbacks."""
    while True:
        request = env_request(choice.name)
        manager = session.pm.hook.create_env(isolation=choice.name, request=request)
        if manager is None:
            raise IsolationUnavailable(
                f"no plugin created an environment for isolation {choice.name!r}"
            )
        try:
            return stack.enter_context(manager), request, choice
        except IsolationUnavailable as exc:
            if asked != "auto" or not choice.fallbacks:
                raise
            # auto's choice passed its check but could not make an environment (an image
            # that cannot be pulled offline): the same fallback as a failed check.
            session.reporter.warn(f"auto chose {choice.name}, but {exc.message}")
            choice = isolation.first_available(
                session.pm,
                session.reporter,
                IsolationChoice(
                    choice.fallbacks[0],
                    f"{choice.reason}; fallback: {choice.name} unavailable ({exc.message})",
                    fallbacks=tuple(choice.fallbacks[1:]),
                ),
                config,
            )


def _backend_environment(
    session: Session,
    env: BuildEnv,
    source: Path,
    config: Config,
    target: targets.Target,
    work: Path,
) -> int | None:
    """Set the backend's rule (``backend_env_rule``), its ``set`` over what the
    ``backend_environment`` hook gives. Returns the build's ``SOURCE_DATE_EPOCH``, if one of them is."""
    reporter = session.reporter
    env.backend_environment = BackendEnvironment.from_plugins(session.pm.hook, config, target.os)
    env.hooks = session.pm.hook
    extra: dict[str, str] = {}
    for found in session.pm.hook.backend_environment(
        env=env,
        source=source,
        config=config,
        target=target,
        work_dir=work,
        environ=session.environ,
        reporter=reporter,
    ):
        extra.update(found or {})
    if extra:
        rule = env.backend_environment
        env.backend_environment = dataclasses.replace(rule, set={**extra, **rule.set})
    if env.on_host and reporter.verbosity >= 1:
        withheld = env.backend_environment.withheld(os.environ)
        if withheld:
            reporter.info(
                f"withholding {len(withheld)} variables that look like credentials from the "
                "build backend ([tool.hwb.env] pass lets one through)"
            )
    epoch = extra.get("SOURCE_DATE_EPOCH", "")
    return int(epoch) if epoch.isdigit() else None


def _make_wheel(
    stack: contextlib.ExitStack,
    session: Session,
    request: BuildRequest,
    env: BuildEnv,
    made: EnvRequest,
    python: PythonInfo,
    choice: IsolationChoice,
    target: targets.Target,
    build_constraints: Any,
) -> BuildResult:
    """Run the backend, repair and try the wheel; the result to publish."""
    pm, reporter, config, project = session.pm, session.reporter, made.config, made.project
    work = made.work_dir
    checks = stack.enter_context(
        wheeltest.stage(
            pm,
            config=config,
            reporter=reporter,
            project=project,
            python=python,
            isolation=choice.name,
            env_request=made,
            work_dir=work / "test",
            target=target,
        )
    )
    config_settings = dict(config.get("config-settings") or {})
    config_settings.update(request.config_settings)
    wheel_dir = work / "wheel"
    wheel_dir.mkdir(exist_ok=True)
    env.build_constraints = build_constraints
    if not request.rebuild:
        found = pm.hook.after_build_scripts(env=env, config=config, work_dir=work)
        env.after_build = [script for scripts in found for script in scripts or ()]
    try:
        wheel = pm.hook.run_backend(
            env=env,
            project=project,
            config_settings=config_settings,
            wheel_dir=wheel_dir,
            reporter=reporter,
        )
    finally:
        env.build_constraints = None
    if wheel is None:
        raise BuildError("no plugin ran the build backend")
    notes: dict[str, Any] = {}
    if not request.rebuild:
        kw = {"env": env, "wheel": Path(wheel), "config": config, "work_dir": work}
        for noted in pm.hook.wheel_made(**kw, reporter=reporter):
            notes.update(noted or {})
    pm.hook.check_wheel(target=target, wheel=Path(wheel), reporter=reporter)
    repaired = _repair(session, Path(wheel), env, made, python, target)
    tests = list(checks(repaired.path))
    return BuildResult(
        path=repaired.path,
        python=python,
        isolation=choice.name,
        isolation_reason=choice.reason,
        repair=repaired,
        duration_s=0.0,
        tests=tests,
        source=request.source.absolute(),
        made=notes,
        build_constraints=build_constraints,
        isolation_detail=env.identity(),
        config=config,
        config_settings=config_settings,
        plugin_records=[r for r in pm.records.values() if r.status == "loaded"],
    )


def _repair(
    session: Session,
    wheel: Path,
    env: BuildEnv,
    made: EnvRequest,
    python: PythonInfo,
    target: targets.Target,
) -> RepairResult:
    """The ``repair_stage`` hook's result; with no plugin to answer it (the repair plugin
    blocked), the wheel as built, with a warning."""
    result: RepairResult | None = session.pm.hook.repair_stage(
        session=session,
        wheel=wheel,
        env=env,
        config=made.config,
        python=python,
        output_dir=made.work_dir / "repaired",
        target=target,
    )
    if result is not None:
        return result
    session.reporter.warn(
        f"no plugin repairs wheels (the repair plugin is blocked); publishing {wheel.name} as built"
    )
    return RepairResult(path=wheel, repaired=False, reason="not repaired: no plugin repairs wheels")


def _publish(session: Session, request: BuildRequest, result: BuildResult, outdir: Path) -> None:
    """Publish the wheel and the files plugins give beside it, and announce it (not the
    second build of a wrapper's ``rebuild``)."""
    assert result.repair is not None
    result.path = outdir / result.repair.path.name
    beside: dict[str, bytes] = {}
    if not request.rebuild:
        for files in session.pm.hook.publish_files(result=result, reporter=session.reporter):
            beside.update(files or {})
    result.files = publish(result.repair.path, outdir, beside)[1]
    if not request.rebuild:
        session.pm.hook.wheel_built(result=result, reporter=session.reporter)
