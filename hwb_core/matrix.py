"""``hwb matrix``: many builds through the one pipeline, in a pool of worker threads.

plan (main thread)  options + project + config -> jobs: python x platform x arch, less the
                    excludes. Each job is ready to run, or already skipped (another OS, an
                    architecture this machine cannot emulate, requires-python) or failed (an
                    interpreter that cannot be found), with the reason.
run (worker pool)   per job: its own reporter writing its own log file, its own copy of the
                    source, then :func:`hwb_core.pipeline.build`, the same call ``hwb build``
                    makes.
stop                Ctrl-C or ``--fail-fast``: no new job starts, running jobs are told to
                    stop (their reporter raises, their child processes get SIGINT), and the
                    run waits until every job has removed its environment.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import IO, Any, Protocol

from hwb_core import platforms, pythons
from hwb_core.config import Config
from hwb_core.errors import BuildError, ConfigError, HwbError, PythonNotFound, UsageError
from hwb_core.interfaces import PythonInfo
from hwb_core.matrix_config import (
    DOCKER_PLATFORMS,
    PLATFORMS,
    QEMU_HANDLERS,
    Exclude,
    normalize_arch,
    normalize_platform,
    parse_excludes,
    runs_natively,
)
from hwb_core.pipeline import (
    BuildRequest,
    Session,
    build,
    check_outdir,
    prepared_source,
    resolve_outdir,
)
from hwb_core.project import Project

WAITING, RUNNING, OK, FAILED, SKIPPED = "waiting", "running", "ok", "failed", "skipped"

#: The docker plugin's key for ``docker run --platform``; set for jobs of another architecture.
DOCKER_PLATFORM_KEY = "isolation.docker.platform"
#: Keys of the docker plugin that ``[tool.hwb.matrix.linux]`` feeds, when the plugin declares them.
_LINUX_POLICY_KEYS = {
    "manylinux": "isolation.docker.manylinux",
    "musllinux": "isolation.docker.musllinux",
}

#: Interpreters older than this are left out of the automatic list: current backends
#: (setuptools, hatchling, flit-core, ...) no longer install on them.
OLDEST_AUTO_PYTHON = (3, 8)

LOG_DIR_NAME = ".hwb-logs"

_PRETTY = platforms.PRETTY


class JobCancelled(KeyboardInterrupt):
    """Raised inside a job's thread when the run is stopping (Ctrl-C, ``--fail-fast``); a
    ``KeyboardInterrupt`` so that every cleanup written for Ctrl-C runs for it too."""


class MatrixFailed(BuildError):
    """At least one job of the matrix failed."""


# --------------------------------------------------------------------------- jobs


@dataclasses.dataclass
class Job:
    """One cell of the matrix and, once run, its outcome."""

    python: str
    """The interpreter as asked (``"3.12"``, ``"cp311"``, a path) or found (``"3.12"``)."""
    platform: str
    """``linux``, ``macos``, ``windows``; ``any`` for the single build of a pure project."""
    arch: str
    interpreter: PythonInfo | None = None
    isolation: str | None = None
    """Isolation this job must use (``docker`` to emulate another architecture), else the run's."""
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    status: str = WAITING
    error: str | None = None
    """Why the job failed or was skipped (one line)."""
    wheel: Path | None = None
    isolation_used: str | None = None
    log: Path | None = None
    step: str = ""
    """The last thing the job reported doing (for the live table)."""
    started: float | None = None
    finished: float | None = None

    @property
    def id(self) -> str:
        label = "".join(c if c.isalnum() or c in "._-" else "_" for c in self.python).strip("_")
        if self.platform == "any":
            return f"{label}-any"
        return f"{label}-{self.platform}-{self.arch}"

    @property
    def duration_s(self) -> float:
        if self.started is None:
            return 0.0
        end = self.finished if self.finished is not None else time.monotonic()
        return end - self.started

    def to_json(self, asked_isolation: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "python": self.python,
            "python_version": self.interpreter.version if self.interpreter else None,
            "platform": self.platform,
            "arch": self.arch,
            "isolation": self.isolation_used or self.isolation or asked_isolation,
            "status": self.status,
            "wheel": str(self.wheel) if self.wheel else None,
            "duration_s": round(self.duration_s, 3),
            "error": self.error,
            "log": str(self.log) if self.log else None,
        }


@dataclasses.dataclass(frozen=True)
class Machine:
    """What this machine can run, asked lazily (checking Docker costs a round trip)."""

    platform: str
    arch: str
    can_emulate: Callable[[str], bool]
    """Whether binfmt_misc has a qemu handler for an architecture."""
    docker_problem: Callable[[], str | None]
    """``None`` when the docker isolation can run here, else why not."""


def binfmt_handler_enabled(arch: str) -> bool:
    handler = QEMU_HANDLERS.get(arch)
    if handler is None:
        return False
    try:
        text = Path("/proc/sys/fs/binfmt_misc", handler).read_text()
    except OSError:
        return False
    return text.splitlines()[0].strip() == "enabled" if text else False


# --------------------------------------------------------------------------- planning


@dataclasses.dataclass
class MatrixOptions:
    """What the command line asked for; empty lists and ``None`` defer to the configuration."""

    source: Path
    pythons: list[str] = dataclasses.field(default_factory=list)
    platforms: list[str] = dataclasses.field(default_factory=list)
    arches: list[str] = dataclasses.field(default_factory=list)
    parallel: int | None = None
    outdir: Path | None = None
    log_dir: Path | None = None
    fail_fast: bool | None = None
    isolation: str | None = None
    config_settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Configuration keys set by plugin options on the command line."""
    verbosity: int = 0


@dataclasses.dataclass
class Plan:
    jobs: list[Job]
    root: Path
    outdir: Path
    log_dir: Path
    parallel: int
    fail_fast: bool
    copy_source: bool
    asked_isolation: str
    excluded: int = 0
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def runnable(self) -> list[Job]:
        return [job for job in self.jobs if job.status == WAITING]


def select_platforms(asked: Sequence[str], config: Config, machine_platform: str) -> list[str]:
    """``--platform``, else ``matrix.platforms``, else this machine's platform plus every
    platform that has a ``[tool.hwb.matrix.<platform>]`` table."""
    names = list(asked) or list(config.get("matrix.platforms"))
    if names:
        return _unique(normalize_platform(n) for n in names)
    chosen = [machine_platform] if machine_platform in PLATFORMS else []
    for name in PLATFORMS:
        if name not in chosen and any(
            config.source(key) != "default"
            for key in config.schema
            if key.startswith(f"matrix.{name}.")
        ):
            chosen.append(name)
    return chosen


def select_arches(
    platform_name: str, asked: Sequence[str], config: Config, machine: Machine
) -> list[str]:
    """``--arch`` (for every platform), else the platform's ``architectures``, else a default:
    this machine's architecture on its own platform, x86_64 and arm64 on macOS (one universal2
    job with ``universal2 = true``), x86_64 elsewhere."""
    if asked:
        return _unique(normalize_arch(platform_name, a) for a in asked)
    key = f"matrix.{platform_name}.architectures"
    configured = list(config.get(key))
    try:
        arches = _unique(normalize_arch(platform_name, a) for a in configured)
    except UsageError as exc:
        raise ConfigError(f"{key} in {config.source(key)}: {exc.message}", hint=exc.hint) from None
    if platform_name == "macos":
        if config.get("matrix.macos.universal2"):
            return ["universal2"]
        return arches or ["x86_64", "arm64"]
    if arches:
        return arches
    if platform_name == machine.platform:
        return [machine.arch]
    return ["x86_64"]


def auto_pythons(
    found: Iterable[PythonInfo], requires_python: str | None
) -> tuple[list[PythonInfo], list[PythonInfo]]:
    """Every CPython 3.8+ that satisfies ``requires_python``, newest patch release per ABI tag
    (``cp313`` and the free-threaded ``cp313t`` are different wheels). Returns the chosen ones
    and those ``requires_python`` left out."""
    spec = _specifier(requires_python)
    best: dict[str, PythonInfo] = {}
    refused: dict[str, PythonInfo] = {}
    for info in found:
        if info.implementation != "cpython" or info.version_tuple[:2] < OLDEST_AUTO_PYTHON:
            continue
        pool = best if spec is None or spec.contains(info.version, prereleases=True) else refused
        current = pool.get(info.abi_tag)
        if current is None or info.version_tuple > current.version_tuple:
            pool[info.abi_tag] = info
    ordered = sorted(best.values(), key=lambda i: (i.version_tuple, i.abi_tag))
    return ordered, sorted(refused.values(), key=lambda i: i.version_tuple)


def python_label(info: PythonInfo) -> str:
    return info.short_version + ("t" if info.abi_tag.endswith("t") else "")


def expand(
    pythons_: Sequence[tuple[str, PythonInfo | None]],
    platforms: Sequence[str],
    arches: Mapping[str, Sequence[str]],
    excludes: Sequence[Exclude] = (),
) -> tuple[list[Job], int]:
    """python x platform x arch, less what ``excludes`` match. Returns the jobs and how many
    were excluded."""
    jobs: list[Job] = []
    excluded = 0
    for label, info in pythons_:
        for platform_name in platforms:
            for arch in arches.get(platform_name, ()):
                if any(ex.matches(label, info, platform_name, arch) for ex in excludes):
                    excluded += 1
                    continue
                jobs.append(Job(python=label, platform=platform_name, arch=arch, interpreter=info))
    return jobs, excluded


def classify(
    job: Job,
    machine: Machine,
    *,
    requires_python: str | None = None,
    not_found: Mapping[str, str] | None = None,
    asked_isolation: str = "auto",
    declared: Iterable[str] = (),
) -> None:
    """Decide whether ``job`` can run here; if not, mark it skipped (or failed) with the reason.
    A job of another architecture is routed to docker with its ``--platform``."""
    if job.platform != machine.platform:
        job.status = SKIPPED
        want, have = (
            _PRETTY.get(job.platform, job.platform),
            _PRETTY.get(machine.platform, machine.platform),
        )
        job.error = f"{want} wheels are built on {want}; this machine runs {have}"
        return
    if not_found and job.python in not_found:
        job.status, job.error = FAILED, not_found[job.python]
        return
    spec = _specifier(requires_python)
    if (
        spec is not None
        and job.interpreter is not None
        and not spec.contains(job.interpreter.version, prereleases=True)
    ):
        job.status = SKIPPED
        job.error = f"the project's requires-python {requires_python!r} excludes Python {job.interpreter.version}"
        return
    if job.platform in ("macos", "windows"):
        # hwb_core.platforms turns it into what the backend hears (ARCHFLAGS, ...).
        job.overrides[platforms.TARGET_KEY] = f"{job.platform}-{job.arch}"
        return
    if runs_natively(machine.arch, job.arch):
        return
    # Another architecture: only a container under qemu can build it.
    if asked_isolation not in ("auto", "docker"):
        job.status = SKIPPED
        job.error = (
            f"isolation {asked_isolation} builds for this machine's {machine.arch} only; "
            f"{job.arch} needs --isolation docker (qemu)"
        )
        return
    if DOCKER_PLATFORM_KEY not in set(declared):
        job.status = SKIPPED
        job.error = (
            f"building {job.arch} on {machine.arch} needs the docker isolation plugin, which is not "
            "installed (or is blocked)"
        )
        return
    problem = machine.docker_problem()
    if problem:
        job.status = SKIPPED
        job.error = (
            f"building {job.arch} on {machine.arch} needs docker, which cannot run here: {problem}"
        )
        return
    if job.arch in QEMU_HANDLERS and not machine.can_emulate(job.arch):
        handler = QEMU_HANDLERS[job.arch]
        job.status = SKIPPED
        job.error = (
            f"no qemu handler for {job.arch} is registered (/proc/sys/fs/binfmt_misc/{handler}); "
            "install qemu-user-static and binfmt-support"
        )
        return
    job.isolation = "docker"
    job.overrides[DOCKER_PLATFORM_KEY] = DOCKER_PLATFORMS[job.arch]


def make_plan(
    options: MatrixOptions, session: Session, project: Project, config: Config, machine: Machine
) -> Plan:
    """Every job of the matrix, each ready to run or marked with why it will not."""
    pm = session.pm
    asked_isolation = options.isolation or str(config.get("isolation.strategy"))
    if asked_isolation != "auto":
        problem = pm.require_isolation(asked_isolation).check()
        if problem:
            from hwb_core.errors import IsolationUnavailable

            raise IsolationUnavailable(f"isolation {asked_isolation!r} cannot run here: {problem}")

    platforms = select_platforms(options.platforms, config, machine.platform)
    if not platforms:
        raise UsageError(
            f"hwb matrix does not know this machine's platform ({machine.platform})",
            hint="name the platforms to build for with --platform",
        )
    arches = {p: select_arches(p, options.arches, config, machine) for p in platforms}
    excludes = parse_excludes(config.get("matrix.exclude"), config.source("matrix.exclude"))
    notes: list[str] = []

    # Interpreters: the list asked for, each found now (once, in this thread), or all found.
    asked = list(options.pythons) or list(config.get("matrix.python"))
    targets: list[tuple[str, PythonInfo | None]] = []
    not_found: dict[str, str] = {}
    if asked:
        seen: dict[str, str] = {}
        for text in asked:
            try:
                info: PythonInfo | None = pythons.find(pm, config, text)
            except PythonNotFound as exc:
                not_found[text] = exc.one_line()
                info = None
            except UsageError as exc:
                raise UsageError(f"matrix python {text!r}: {exc.message}", hint=exc.hint) from None
            if info is not None and info.path in seen:
                notes.append(
                    f"{text} is the same interpreter as {seen[info.path]}; building it once"
                )
                continue
            if info is not None:
                seen[info.path] = text
            targets.append((text, info))
    else:
        found, refused = auto_pythons(pythons.list_all(pm, config), project.requires_python)
        if refused:
            notes.append(
                f"requires-python {project.requires_python!r} leaves out "
                + ", ".join(i.version for i in refused)
            )
        if not found:
            raise PythonNotFound(
                "no CPython 3.8 or newer satisfying the project's requires-python "
                f"({project.requires_python or 'any'}) was found",
                hint="install one (uv python install 3.12, pyenv install 3.12) or list them with --python",
            )
        targets = [(python_label(i), i) for i in found]

    if not project.extensions.detected:
        jobs, excluded = [_pure_job(targets, project.requires_python, not_found, notes)], 0
    else:
        jobs, excluded = expand(targets, platforms, arches, excludes)
        if not jobs:
            raise UsageError(
                f"the matrix is empty: all {excluded} jobs are excluded",
                hint="check [[tool.hwb.matrix.exclude]] against --python, --platform and --arch",
            )
        for job in jobs:
            classify(
                job,
                machine,
                requires_python=project.requires_python,
                not_found=not_found,
                asked_isolation=asked_isolation,
                declared=config.schema,
            )
            if job.status == WAITING and job.platform == "linux":
                for field, key in _LINUX_POLICY_KEYS.items():
                    value = config.get(f"matrix.linux.{field}")
                    if value and key in config.schema:
                        job.overrides[key] = value
    for job in jobs:  # a bad override is a configuration error, found before anything runs
        if job.overrides:
            config.with_overrides(job.overrides, source=f"hwb matrix job {job.id}")

    outdir = resolve_outdir(
        BuildRequest(source=options.source, outdir=options.outdir), config, project.root
    )
    check_outdir(outdir)
    log_dir = (options.log_dir or outdir / LOG_DIR_NAME).absolute()
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"log directory {log_dir} cannot be created ({exc.strerror or exc})",
            hint="choose another with --log-dir",
        ) from None
    for job in jobs:
        job.log = log_dir / f"{job.id}.log"

    parallel = options.parallel or int(config.get("matrix.parallel")) or _cpu_count()
    if parallel < 1:
        raise ConfigError("matrix.parallel must be 1 or more", hint="0 means the number of CPUs")
    fail_fast = (
        options.fail_fast if options.fail_fast is not None else bool(config.get("matrix.fail-fast"))
    )
    runnable = sum(1 for job in jobs if job.status == WAITING)
    copy_source = bool(config.get("matrix.copy-source")) and parallel > 1 and runnable > 1
    return Plan(
        jobs=jobs,
        root=project.root,
        outdir=outdir,
        log_dir=log_dir,
        parallel=parallel,
        fail_fast=fail_fast,
        copy_source=copy_source,
        asked_isolation=asked_isolation,
        excluded=excluded,
        notes=notes,
    )


def _pure_job(
    targets: Sequence[tuple[str, PythonInfo | None]],
    requires_python: str | None,
    not_found: Mapping[str, str],
    notes: list[str],
) -> Job:
    """A pure-Python project: one py3-none-any wheel, built with the newest interpreter listed."""
    spec = _specifier(requires_python)
    usable = [
        (label, info)
        for label, info in targets
        if info is not None and (spec is None or spec.contains(info.version, prereleases=True))
    ]
    if not usable:
        job = Job(
            python=",".join(label for label, _ in targets),
            platform="any",
            arch="any",
            status=FAILED,
        )
        reasons = [not_found[label] for label, _ in targets if label in not_found]
        job.error = (
            "; ".join(reasons)
            if reasons
            else (
                f"no interpreter listed satisfies the project's requires-python {requires_python!r}"
            )
        )
        return job
    label, info = max(usable, key=lambda t: t[1].version_tuple if t[1] else ())
    notes.append(
        f"pure-Python project: one wheel built with Python {info.version if info else label} "
        "serves every version and platform"
    )
    return Job(python=label, platform="any", arch="any", interpreter=info)


# --------------------------------------------------------------------------- running


class View(Protocol):
    """How a run is shown; ``changed`` and ``message`` are called from worker threads."""

    def start(self, plan: Plan) -> None: ...
    def changed(self, job: Job) -> None: ...
    def message(self, job: Job, kind: str, text: str) -> None: ...
    def stop(self) -> None: ...


class JobReporter:
    """A job's reporter: everything goes to the job's log; warnings (once per text) and, at
    ``-v``, output go to the view. Once the run is stopping, the first progress call raises
    :class:`JobCancelled` (``process.run`` reports before it starts a command, and for every
    line of output, so no new command starts and a running one is stopped)."""

    def __init__(
        self,
        job: Job,
        log: IO[str],
        emit: Callable[[Job, str, str], None],
        cancel: threading.Event,
        console_verbosity: int,
    ) -> None:
        self.job = job
        self.verbosity = max(2, console_verbosity)  # plugins log commands; the log file keeps all
        self._log = log
        self._emit = emit
        self._cancel = cancel
        self._console = console_verbosity
        self._cancelled = False
        self._lock = threading.Lock()
        self._start = time.monotonic()

    def _check(self) -> None:
        if self._cancel.is_set() and not self._cancelled:
            self._cancelled = True  # raise once: the cleanup that follows must be able to report
            raise JobCancelled

    def write(self, text: str) -> None:
        with self._lock:
            try:
                self._log.write(text + "\n")
                self._log.flush()
            except (OSError, ValueError):
                pass  # a full disk or closed log must not fail the build

    def step(self, message: str) -> None:
        self._check()
        self.job.step = message
        self.write(f"[{time.monotonic() - self._start:6.1f}s] {message}")
        if self._console >= 1:
            self._emit(self.job, "step", message)

    def info(self, message: str) -> None:
        self.write(message)
        if self._console >= 1:
            self._emit(self.job, "info", message)

    def warn(self, message: str) -> None:
        self.write(f"warning: {message}")
        self._emit(self.job, "warning", message)

    def debug(self, message: str) -> None:
        self._check()
        self.write(message)
        if self._console >= 2:
            self._emit(self.job, "debug", message)

    def output(self, line: str) -> None:
        self._check()
        self.write("  " + line)
        if self._console >= 1:
            self._emit(self.job, "output", line)

    def error(self, message: str) -> None:
        self.write(f"error: {message}")


class Runner:
    """Runs a plan's jobs in a thread pool and stops them all cleanly on Ctrl-C or fail-fast."""

    #: Seconds the running jobs get to stop after SIGINT, then after SIGTERM, before SIGKILL.
    GRACE = (3.0, 5.0)

    def __init__(self, plan: Plan, session: Session, options: MatrixOptions, view: View) -> None:
        self.plan = plan
        self.session = session
        self.options = options
        self.view = view
        self._cancel = threading.Event()
        self._reason = ""
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self._work_dirs: set[Path] = set()

    # ----------------------------------------------------------------- the pool

    def run(self) -> None:
        """Run every waiting job. Re-raises ``KeyboardInterrupt`` once all jobs have stopped."""
        for job in self.plan.jobs:
            if job.status != WAITING:
                self._write_outcome_only(job)
        todo = self.plan.runnable
        if self.plan.fail_fast:
            failed = next((job for job in self.plan.jobs if job.status == FAILED), None)
            if failed is not None:
                self.cancel(f"--fail-fast after {failed.id} failed")
        self.view.start(self.plan)
        try:
            if todo and not self._cancel.is_set():
                self._run_pool(todo)
        finally:
            for job in todo:
                if job.status == WAITING:
                    self._finish(job, SKIPPED, f"not started: {self._reason or 'stopped'}")
                    self._write_outcome_only(job)
            for work in list(self._work_dirs):
                shutil.rmtree(work, ignore_errors=True)
            self.view.stop()

    def _run_pool(self, todo: list[Job]) -> None:
        pool = ThreadPoolExecutor(
            max_workers=min(self.plan.parallel, len(todo)), thread_name_prefix="hwb-job"
        )
        pending: set[Future[None]] = set()
        try:
            for job in todo:
                pending.add(pool.submit(self._run_job, job))
            while pending:
                _done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                if self._cancel.is_set():  # --fail-fast
                    if self._stop_all(pending):
                        raise KeyboardInterrupt  # Ctrl-C while stopping: still an interrupt
                    return
        except KeyboardInterrupt:
            self.cancel("interrupted")
            self._stop_all(pending)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def cancel(self, reason: str) -> None:
        with self._lock:
            if not self._cancel.is_set():
                self._reason = reason
                self._cancel.set()

    def _stop_all(self, pending: set[Future[None]]) -> bool:
        """Stop running jobs: SIGINT to every child process, SIGTERM and SIGKILL after a grace
        period (SIGKILL at once on Ctrl-C), and wait until each job has cleaned up. Returns
        whether Ctrl-C was pressed meanwhile."""
        for future in pending:
            future.cancel()  # not started yet: never will be
        signals = [signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)]
        stage = 0
        signal_descendants(signals[stage])
        stage_started = time.monotonic()
        interrupts = 0
        while pending:
            try:
                _done, pending = wait(pending, timeout=0.25)
                if stage < len(self.GRACE) and time.monotonic() - stage_started > self.GRACE[stage]:
                    stage += 1
                    stage_started = time.monotonic()
                    signal_descendants(signals[stage])
            except KeyboardInterrupt:
                interrupts += 1
                if interrupts >= 2:  # the user insists: leave now
                    self.view.stop()
                    os._exit(130)
                stage = len(signals) - 1
                signal_descendants(signals[stage])
        return interrupts > 0

    # ----------------------------------------------------------------- one job

    def _run_job(self, job: Job) -> None:
        if self._cancel.is_set():
            self._finish(job, SKIPPED, f"not started: {self._reason}")
            self._write_outcome_only(job)
            return
        assert job.log is not None and job.interpreter is not None
        try:
            log = open(job.log, "w", encoding="utf-8", errors="replace")
        except OSError as exc:
            self._finish(job, FAILED, f"cannot write its log {job.log}: {exc.strerror or exc}")
            if self.plan.fail_fast:
                self.cancel(f"--fail-fast after {job.id} failed")
            return
        reporter = JobReporter(job, log, self._emit, self._cancel, self.options.verbosity)
        isolation = job.isolation or self.options.isolation
        reporter.write(
            f"hwb matrix job {job.id}: {job.interpreter.describe()}, {job.platform} {job.arch}, "
            f"isolation {isolation or self.plan.asked_isolation}"
        )
        job.started = time.monotonic()
        self._set(job, RUNNING)
        status, error, work = FAILED, None, None
        try:
            source = self.plan.root
            if self.plan.copy_source:
                work = Path(tempfile.mkdtemp(prefix="hwb-matrix-"))
                self._work_dirs.add(work)
                reporter.step(f"copying the source into {work}")
                source = copy_source(
                    self.plan.root,
                    work / self.plan.root.name,
                    skip=[self.plan.outdir, self.plan.log_dir],
                )
            request = BuildRequest(
                source=source,
                outdir=self.plan.outdir,
                python=job.interpreter.path,
                isolation=isolation,
                config_settings=dict(self.options.config_settings),
                overrides={**self.options.overrides, **job.overrides},
            )
            result = build(request, Session(self.session.pm, reporter, self.session.environ))
            job.wheel, job.isolation_used = result.path, result.isolation
            status = OK
        except JobCancelled:
            status, error = SKIPPED, f"stopped: {self._reason}"
        except HwbError as exc:
            reporter.write(f"error: {exc.one_line()}")
            if exc.details:
                reporter.write(exc.details.rstrip())
            # A child killed by Ctrl-C fails its command a moment before the main thread hears of it.
            if self._cancel.wait(0.2):
                status, error = SKIPPED, f"stopped: {self._reason} ({exc.message})"
            else:
                error = exc.one_line()
        except Exception as exc:  # a bug in hwb or a plugin: this job fails, the others go on
            reporter.write(traceback.format_exc())
            error = f"internal error: {type(exc).__name__}: {exc}; the traceback is in {job.log}"
        finally:
            if work is not None:
                shutil.rmtree(work, ignore_errors=True)
                self._work_dirs.discard(work)
            job.finished = time.monotonic()
            reporter.write(
                f"result: {status}"
                + (f": {error}" if error else f": {job.wheel}")
                + f" ({job.duration_s:.1f}s)"
            )
            log.close()
            self._finish(job, status, error)
        if status == FAILED and self.plan.fail_fast:
            self.cancel(f"--fail-fast after {job.id} failed")

    def _write_outcome_only(self, job: Job) -> None:
        """A job decided at planning time still gets its log, so every job has one."""
        if job.log is None:
            return
        try:
            job.log.write_text(
                f"hwb matrix job {job.id}\nresult: {job.status}: {job.error}\n", encoding="utf-8"
            )
        except OSError:
            pass

    def _set(self, job: Job, status: str) -> None:
        job.status = status
        self.view.changed(job)

    def _finish(self, job: Job, status: str, error: str | None) -> None:
        if job.finished is None and job.started is not None:
            job.finished = time.monotonic()
        job.error = error
        self._set(job, status)

    def _emit(self, job: Job, kind: str, text: str) -> None:
        if kind == "warning":
            with self._lock:
                if text in self._warned:
                    return
                self._warned.add(text)
        self.view.message(job, kind, text)


# --------------------------------------------------------------------------- helpers

_NEVER_COPIED = frozenset(
    {
        ".tox",
        ".nox",
        ".venv",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        LOG_DIR_NAME,
    }
)


def copy_source(root: Path, dest: Path, skip: Iterable[Path] = ()) -> Path:
    """Copy a project tree for one job, without virtual environments, caches and ``skip``
    (the output and log directories). Symbolic links are copied as links."""
    skipped = {os.path.realpath(p) for p in skip}

    def ignore(directory: str, names: list[str]) -> set[str]:
        out = set()
        for name in names:
            if name in _NEVER_COPIED:
                out.add(name)
                continue
            path = os.path.join(directory, name)
            if (
                os.path.isdir(path)
                and not os.path.islink(path)
                and (
                    os.path.realpath(path) in skipped
                    or os.path.exists(os.path.join(path, "pyvenv.cfg"))
                )
            ):
                out.add(name)
        return out

    shutil.copytree(root, dest, symlinks=True, ignore=ignore)
    return dest


def descendants(root: int | None = None) -> list[int]:
    """Process ids of every descendant of ``root`` (this process), from ``/proc``; empty where
    there is no ``/proc``."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2 :].split()  # the name may hold spaces and parentheses
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def signal_descendants(signum: int) -> None:
    """Send ``signum`` to every process this one started, directly or not. Children share
    hwb's process group when run from a terminal, and get Ctrl-C anyway; this reaches them
    when they do not (hwb under a supervisor, SIGTERM, ``--fail-fast``)."""
    for pid in descendants():
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def this_machine(session: Session) -> Machine:
    platform_name = platforms.host_os()
    cache: dict[str, str | None] = {}

    def docker_problem() -> str | None:
        if "docker" not in cache:
            info = session.pm.isolations().get("docker")
            cache["docker"] = "no installed plugin provides it" if info is None else info.check()
        return cache["docker"]

    return Machine(
        platform_name, platforms.host_arch(platform_name), binfmt_handler_enabled, docker_problem
    )


def _warm_up(session: Session) -> None:
    """Fill process-wide lazy state in this thread before the workers read it: CPython's
    ``sysconfig`` fills its variables on first use without a lock (a second thread can see a
    half-filled dict), and the plugin manager caches its schema and isolations on first use."""
    import sysconfig

    sysconfig.get_config_vars()
    session.pm.schema()
    session.pm.isolations()


def _specifier(requires_python: str | None) -> Any:
    if not requires_python:
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(requires_python)
    except InvalidSpecifier:
        raise ConfigError(
            f"requires-python {requires_python!r} is not a valid version specifier",
            hint='fix [project] requires-python, for example ">=3.9"',
        ) from None


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# --------------------------------------------------------------------------- the whole run


@dataclasses.dataclass
class MatrixResult:
    plan: Plan
    duration_s: float
    interrupted: bool = False

    @property
    def jobs(self) -> list[Job]:
        return self.plan.jobs

    def count(self, status: str) -> int:
        return sum(1 for job in self.jobs if job.status == status)

    def to_json(self) -> dict[str, Any]:
        return {"jobs": [job.to_json(self.plan.asked_isolation) for job in self.jobs]}

    def check(self) -> None:
        """Raise when the run did not succeed: a job failed, or none could run."""
        failed = [job for job in self.jobs if job.status == FAILED]
        if failed:
            names = ", ".join(job.id for job in failed[:5]) + (", ..." if len(failed) > 5 else "")
            raise MatrixFailed(
                f"{len(failed)} of {len(self.jobs)} jobs failed ({names})",
                hint=f"each job's log is in {self.plan.log_dir}",
            )
        if not self.count(OK):
            raise BuildError(
                f"no job of the matrix could run on this machine ({self.count(SKIPPED)} skipped)",
                hint="the reasons are listed above; choose platforms and architectures this machine builds",
            )


def run_matrix(
    options: MatrixOptions, session: Session, view: View, machine: Machine | None = None
) -> MatrixResult:
    """Plan and run the matrix. Job failures are in the result (see :meth:`MatrixResult.check`);
    errors of the whole run (bad options or configuration) raise :class:`HwbError`."""
    started = time.monotonic()
    with prepared_source(options.source) as root:
        project = Project.load(root)
        config = session.config_for(project, options.overrides)
        _warm_up(session)
        plan = make_plan(options, session, project, config, machine or this_machine(session))
        for note in plan.notes:
            session.reporter.info(note)
        runner = Runner(plan, session, options, view)
        try:
            runner.run()
        except KeyboardInterrupt:
            return MatrixResult(plan, time.monotonic() - started, interrupted=True)
    return MatrixResult(plan, time.monotonic() - started)
