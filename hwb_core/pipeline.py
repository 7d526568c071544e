"""The one way from a request to a published wheel.

    request -> Project -> Config -> find_python -> select_isolation -> create_env
            -> run_backend -> repair_wheel -> try_wheel -> publish_files
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
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from hwb_core import (
    deadline,
    host,
    isolation,
    pythons,
    reproducible,
    snapshot,
    wheeltest,
)
from hwb_core import target as targets
from hwb_core.archive import Limits, extract_sdist, is_sdist
from hwb_core.backend_env import BackendEnvironment
from hwb_core.config import Config, load_config
from hwb_core.errors import (
    BuildError,
    BuildTimeout,
    ConfigError,
    HwbError,
    IsolationUnavailable,
    PolicyViolation,
    PythonNotFound,
    RepairError,
    UsageError,
)
from hwb_core.interfaces import (
    BuildResult,
    EnvRequest,
    IsolationChoice,
    PythonInfo,
    RepairRequest,
    RepairResult,
    Reporter,
)
from hwb_core.plugins import PluginManager
from hwb_core.project import Project
from hwb_core.report import LogReporter
from hwb_core.scope import Scope

TEMP_PREFIX = "hwb-"


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


#: How many build logs hwb's cache keeps (``logs/`` in the cache directory), newest first.
KEEP_LOGS = 50


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

    def report_plugin_failures(self) -> None:
        for record in self.pm.failures():
            self.reporter.warn(
                f"plugin {record.name!r} ({record.target}) failed to load: {record.error}"
            )


@contextlib.contextmanager
def prepared_source(
    source: Path, limits: Limits | None = None, reporter: Reporter | None = None
) -> Iterator[Path]:
    """Yield the project root: ``source`` itself, or an sdist extracted into a temporary place
    (within ``limits``)."""
    if not source.exists():
        raise UsageError(
            f"source {source} does not exist", hint="give a project directory or an sdist (.tar.gz)"
        )
    if source.is_dir():
        yield source.resolve()
        return
    if not is_sdist(source):
        raise UsageError(
            f"source {source} is neither a directory nor an sdist",
            hint="give a project directory or a .tar.gz source distribution",
        )
    tmp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX + "sdist-"))
    if reporter is not None:
        size = source.stat().st_size / 1024 / 1024
        reporter.step(f"extracting {source.name} ({size:.1f} MB)")
    try:
        yield extract_sdist(source.resolve(), tmp, limits)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def archive_limits(config: Config) -> Limits:
    """What an sdist may unpack to, from ``sdist.max-files`` and ``sdist.max-megabytes`` (the
    environment and command line only: the project's own file is inside the archive)."""
    files, megabytes = int(config.get("sdist.max-files")), int(config.get("sdist.max-megabytes"))
    if files < 1 or megabytes < 1:
        raise ConfigError(
            "sdist.max-files and sdist.max-megabytes must be 1 or more",
            hint="they bound what an sdist may unpack to",
        )
    return Limits(files, megabytes)


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


def private_source(
    stack: contextlib.ExitStack,
    request: BuildRequest,
    config: Config,
    project: Project,
    outdir: Path,
    work: Path,
    reporter: Reporter,
) -> Project:
    """The project the build works in: a private copy of a source directory
    (:mod:`hwb_core.snapshot`), or with ``in-place`` the tree itself, locked against a second
    in-place build. An sdist was extracted into a private directory already."""
    if not request.source.is_dir():
        return project
    if config.get("in-place"):
        stack.enter_context(snapshot.tree_lock(project.root, reporter))
        return project
    started = time.monotonic()
    copy, files = snapshot.copy_tree(project.root, work / "src", skip=[outdir])
    reporter.debug(
        f"copied the source ({files} files) into {copy} in {time.monotonic() - started:.2f}s"
    )
    return Project.load(copy)


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
    (with the path of the build's log in ``log`` once there is one). With
    ``reproducible.check`` the source is built a second time and the wheels compared
    (``result.reproducible``)."""
    log: list[Path] = []
    try:
        result = _build(request, session, log)
        if result.reproducible is CHECK_ASKED:
            result.reproducible = check_reproducible(request, session, result)
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


#: ``BuildResult.reproducible`` between the first build of ``--check-reproducible`` and the second.
CHECK_ASKED = object()


def check_reproducible(
    request: BuildRequest, session: Session, first: BuildResult
) -> reproducible.Comparison:
    """Build ``request`` again into a temporary directory, in fresh environments and without
    tests, and compare the wheel with the first build's."""
    session.reporter.step("building a second time to compare (--check-reproducible)")
    with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX + "again-") as tmp:
        again = dataclasses.replace(
            request,
            outdir=Path(tmp),
            overrides={**request.overrides, reproducible.CHECK: False, "test.enabled": False},
            keep_log=False,
            rebuild=True,
        )
        second = _build(again, session, [])
        comparison = reproducible.compare(first.path, second.path, first.source_date_epoch)
    if comparison.identical:
        session.reporter.step(comparison.describe())
    else:
        session.reporter.warn(comparison.describe())
    return comparison


def open_log(project: Project, python: PythonInfo) -> tuple[Path, IO[str]]:
    """A new log file for one build in ``logs/`` of hwb's cache directory (the output
    directory holds wheels only); logs beyond the newest :data:`KEEP_LOGS` are removed."""
    from hwb_core.paths import cache_dir

    directory = cache_dir() / "logs"
    try:
        private_dir(directory)
        _prune_logs(directory)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = directory / f"build-{project.name}-{python.abi_tag}-{stamp}-{os.getpid()}.log"
        return path, open_private(path)
    except OSError as exc:
        raise UsageError(
            f"cannot write the build log in {directory} ({exc.strerror or exc})",
            hint="set HWB_CACHE_DIR to a writable directory",
        ) from None


def private_dir(directory: Path) -> None:
    """Make ``directory`` (and its parents), readable by its owner alone: logs hold what a
    build printed, its environment's secrets perhaps."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(directory, 0o700)  # made by an earlier hwb, with the umask's mode


def open_private(path: Path) -> IO[str]:
    """``path`` opened for writing text, afresh, readable by its owner alone (0600)."""

    def opener(name: str, flags: int) -> int:
        fd = os.open(name, flags, 0o600)
        if os.name == "posix":
            os.fchmod(fd, 0o600)  # a file there already kept its mode
        return fd

    return open(path, "w", encoding="utf-8", errors="replace", opener=opener)


def _prune_logs(directory: Path) -> None:
    """Keep the newest logs. Builds running side by side prune too: a log another one removed
    meanwhile is simply gone, never an error."""
    dated: list[tuple[float, Path]] = []
    for path in directory.glob("build-*.log"):
        with contextlib.suppress(OSError):
            dated.append((path.stat().st_mtime, path))
    dated.sort()
    for _, stale in dated[: max(0, len(dated) - KEEP_LOGS + 1)]:
        with contextlib.suppress(OSError):
            stale.unlink()


def _build(request: BuildRequest, session: Session, log: list[Path]) -> BuildResult:
    started = time.monotonic()
    reporter = session.reporter
    pm = session.pm
    with contextlib.ExitStack() as stack:
        limits = archive_limits(session.config_for(None, request.overrides))
        root = stack.enter_context(prepared_source(request.source, limits, reporter))
        project = Project.load(root)
        overrides = dict(request.overrides)
        if request.python:
            overrides["python"] = request.python
        if request.isolation:
            overrides["isolation.strategy"] = request.isolation
        config = session.config_for(project, overrides)
        build_constraints = pm.build_constraints(config, project)
        epoch, epoch_from = reproducible.source_date_epoch(request.source, config, session.environ)
        stack.enter_context(reproducible.using(epoch))
        fresh = request.rebuild or bool(config.get(reproducible.CHECK))
        python = find_python(pm, config)
        target = targets.resolve(
            pm, config.get(targets.TARGET_KEY), config, python, session.environ
        )
        stack.enter_context(deadline.limit(config.get("timeout")))
        asked = config.get("isolation.strategy")
        foreign = target.arch if target.asked and target.os == "linux" else None
        choice = isolation.choose(pm, reporter, project, python, config, asked, foreign)

        outdir = resolve_outdir(request, config, root)
        check_outdir(outdir)
        if request.keep_log:
            path, stream = open_log(project, python)
            stack.enter_context(stream)
            log.append(path)
            stream.write(f"hwb build {request.source}: {python.describe()}, in {choice.name}\n")
            reporter = LogReporter(reporter, stream)
            session = Session(pm, reporter, session.environ, session.scope)

        config_settings = dict(config.get("config-settings") or {})
        config_settings.update(request.config_settings)

        backend_env: dict[str, str] = {}
        for found in pm.hook.prepare_target(
            target=target, project=project, environ=session.environ, reporter=reporter
        ):
            backend_env.update(found or {})
        if session.scope is not None:
            work = session.scope.work_dir()
        else:
            work = pm.work_dir()
        stack.callback(shutil.rmtree, work, True)
        caps = pm.isolations()[choice.name].capabilities if choice.name in pm.isolations() else None
        # A container builds with its image's interpreter, known once it runs: name the version.
        wanted = f"Python {python.short_version}" if caps and caps.container else python.describe()
        reporter.step(f"building {project.name} for {wanted} in {choice.name} ({choice.reason})")
        if target.os != "linux":
            reporter.step(f"target: {target.describe()}")
        project = private_source(stack, request, config, project, outdir, work, reporter)
        while True:
            env_request = EnvRequest(
                python=python,
                project=project,
                config=with_target(config, pm, choice.name, target),
                reporter=reporter,
                work_dir=work,
                extra_env=backend_env,
                fresh=fresh,
                scope=session.scope,
            )
            manager = pm.hook.create_env(isolation=choice.name, request=env_request)
            if manager is None:
                raise IsolationUnavailable(
                    f"no plugin created an environment for isolation {choice.name!r}"
                )
            try:
                env = stack.enter_context(manager)
                break
            except IsolationUnavailable as exc:
                if asked != "auto" or not choice.fallbacks:
                    raise
                # auto's choice passed its check but could not make an environment (an image
                # that cannot be pulled offline): the same fallback as a failed check.
                reporter.warn(f"auto chose {choice.name}, but {exc.message}")
                choice = isolation.first_available(
                    pm,
                    reporter,
                    IsolationChoice(
                        choice.fallbacks[0],
                        f"{choice.reason}; fallback: {choice.name} unavailable ({exc.message})",
                        fallbacks=tuple(choice.fallbacks[1:]),
                    ),
                    config,
                )
        config = env_request.config
        if env.python.path != python.path:  # the environment's own (a container's image)
            python = env.python
            reporter.step(f"the environment's interpreter: {python.describe()}")
        target = targets.check_environment(target, env)
        env.backend_environment = BackendEnvironment.from_config(config, target.os)
        env.hooks = pm.hook
        if epoch is not None:
            rule = env.backend_environment
            fixed = {"SOURCE_DATE_EPOCH": str(epoch)}
            if env.on_host and target.os in ("linux", "macos"):
                # The source and the environment are in new temporary directories each time.
                paths = {str(env.source_dir): ".", str(work): "/hwb-build"}
                fixed.update(reproducible.compiler_flags(paths, os.environ, rule.set))
            env.backend_environment = dataclasses.replace(rule, set={**fixed, **rule.set})
            reporter.debug(f"SOURCE_DATE_EPOCH={epoch} ({epoch_from})")
        else:
            reporter.debug(f"no SOURCE_DATE_EPOCH: {epoch_from}")
        if env.on_host and reporter.verbosity >= 1:
            withheld = env.backend_environment.withheld(os.environ)
            if withheld:
                reporter.info(
                    f"withholding {len(withheld)} variables that look like credentials from the "
                    "build backend ([tool.hwb.env] pass lets one through)"
                )
        prefetched = wheeltest.prefetch(
            pm, config, project, choice.name, env_request, work / "test"
        )
        if prefetched is not None:
            stack.callback(prefetched.close)
        wheel_dir = work / "wheel"
        wheel_dir.mkdir(exist_ok=True)
        env.build_constraints = build_constraints
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
        installed = [] if request.rebuild else env.installed_distributions(work / "installed")
        if wheel is None:
            raise BuildError("no plugin ran the build backend")
        pm.hook.check_wheel(target=target, wheel=Path(wheel), reporter=reporter)
        repaired = repair(
            session, Path(wheel), env, config, python, work / "repaired", target=target
        )
        tests = wheeltest.try_wheel(
            pm,
            repaired.path,
            config=config,
            reporter=reporter,
            project=project,
            python=python,
            isolation=choice.name,
            env_request=env_request,
            work_dir=work / "test",
            target=target,
            prefetched=prefetched,
        )
        result = BuildResult(
            path=outdir / repaired.path.name,
            python=python,
            isolation=choice.name,
            isolation_reason=choice.reason,
            repair=repaired,
            duration_s=time.monotonic() - started,
            log=log[0] if log else None,
            tests=tests,
            source_date_epoch=epoch,
            source=request.source.absolute(),
            build_requirements=installed,
            build_constraints=build_constraints,
            isolation_detail=env.identity(),
            config=config,
            config_settings=config_settings,
            plugin_records=[r for r in pm.records.values() if r.status == "loaded"],
        )
        beside: dict[str, bytes] = {}
        if not request.rebuild:
            for files in pm.hook.publish_files(result=result, reporter=reporter):
                beside.update(files or {})
        result.files = publish(repaired.path, outdir, beside)[1]
        if config.get(reproducible.CHECK) and not request.rebuild:
            result.reproducible = CHECK_ASKED
        if not request.rebuild:
            pm.hook.wheel_built(result=result, reporter=reporter)
        return result
    raise AssertionError("unreachable")  # pragma: no cover


def find_python(pm: PluginManager, config: Config) -> PythonInfo:
    """The interpreter ``--python`` names. An isolation asked for by name that brings its own
    interpreters (a container's image) needs none on this machine: then the version asked for
    stands in, and the environment finds its interpreter."""
    text = config.get("python")
    try:
        return pythons.find(pm, config, text)
    except PythonNotFound:
        info = pm.isolations().get(config.get("isolation.strategy"))
        stand_in = (
            pythons.wanted(text) if info is not None and info.capabilities.container else None
        )
        if stand_in is None:
            raise
        return stand_in


def repair_request(
    session: Session,
    config: Config,
    python: PythonInfo | None,
    output_dir: Path,
    target: targets.Target | None = None,
) -> RepairRequest:
    """The request repairers and policies receive, from ``[tool.hwb.repair]``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    policy = config.get("repair.policy")
    return RepairRequest(
        config=config,
        reporter=session.reporter,
        output_dir=output_dir,
        python=python,
        policy=None if policy in (None, "", "auto") else policy,
        exclude=list(config.get("repair.exclude") or []),
        lib_sdir=config.get("repair.lib-sdir") or None,
        strip=bool(config.get("repair.strip")),
        target=target,
        source_date_epoch=reproducible.current(),
    )


def repair(
    session: Session,
    wheel: Path,
    env: Any,
    config: Config,
    python: PythonInfo | None,
    output_dir: Path,
    *,
    target: targets.Target | None = None,
) -> RepairResult:
    """Run the ``repair_wheel`` hook as ``[tool.hwb.repair] mode`` says: ``skip`` does not call
    it; ``warn`` turns a failed repair (not a policy's refusal) into a warning and keeps the
    wheel as built; ``auto`` lets the error through, so nothing is published."""
    mode = config.get("repair.mode")
    if mode == "skip":
        return RepairResult(
            path=wheel,
            repaired=False,
            reason=f"repair skipped (repair.mode = skip, from {config.source('repair.mode')})",
        )
    request = repair_request(session, config, python, output_dir, target)
    try:
        result: RepairResult | None = session.pm.hook.repair_wheel(
            wheel=wheel, env=env, request=request
        )
    except PolicyViolation:
        raise
    except RepairError as exc:
        if mode != "warn":
            raise
        session.reporter.warn(
            f"{exc.one_line()}; publishing {wheel.name} unrepaired (repair.mode = warn)"
        )
        return RepairResult(path=wheel, repaired=False, reason=f"repair failed: {exc.message}")
    if result is None:
        return RepairResult(path=wheel, repaired=False, reason="no repairer handles this wheel")
    return result
