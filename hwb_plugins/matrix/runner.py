"""Running a plan: a pool of worker threads, each job through the one pipeline, and a clean
stop for all of them on Ctrl-C or ``--fail-fast``."""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import IO, Protocol

from hwb import BuildRequest, HwbError, Project, Session, WheelTestFailed, build, prepared_source
from hwb.files import open_private
from hwb.records import test_record
from hwb.scope import Scope
from hwb_plugins.matrix.engines import Dispatcher
from hwb_plugins.matrix.jobs import (
    FAILED,
    OK,
    RUNNING,
    SKIPPED,
    WAITING,
    Job,
    JobCancelled,
    MatrixOptions,
    MatrixResult,
    Plan,
)
from hwb_plugins.matrix.plan import make_plan, this_machine
from hwb_plugins.matrix.procs import signal_descendants
from hwb_plugins.matrix.routing import Machine, buildable
from hwb_plugins.matrix.slices import select


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
        self.label = job.id
        """What the build is called in CI logs (the ``label`` a reporter may carry)."""
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

    def __init__(
        self,
        plan: Plan,
        session: Session,
        options: MatrixOptions,
        view: View,
        scope: Scope | None = None,
    ) -> None:
        self.plan = plan
        self.session = session
        self.scope = scope
        """Shared by every job's build: what isolations keep between jobs (one container per
        image), released when the run ends."""
        self.options = options
        self.view = view
        self._cancel = threading.Event()
        self._reason = ""
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self._engines = Dispatcher()

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
        if self.scope is not None:
            self.scope.stop()  # what runs where no signal reaches: commands in containers
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
            log = open_private(job.log)
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
        self._engines.take(job)
        if job.engine:
            reporter.write(f"engine: {job.engine}")
        job.started = time.monotonic()
        self._set(job, RUNNING)
        status, error = FAILED, None
        try:
            # Each build works in a private copy of the tree (hwb.snapshot), so jobs
            # side by side never share build/; with in-place they take turns.
            request = BuildRequest(
                source=self.plan.root,
                outdir=self.plan.outdir,
                python=job.interpreter.path or job.interpreter.version,  # a stand-in: its version
                isolation=isolation,
                config_settings=dict(self.options.config_settings),
                overrides={**self.options.overrides, **job.overrides},
            )
            job_session = Session(self.session.pm, reporter, self.session.environ, self.scope)
            result = build(request, job_session)
            job.wheel, job.isolation_used = result.path, result.isolation
            job.test = test_record(result)
            job.size, job.repair = _size(result.path), _repair_word(result.repair)
            status = OK
        except JobCancelled:
            status, error = SKIPPED, f"stopped: {self._reason}"
        except HwbError as exc:
            if isinstance(exc, WheelTestFailed):
                job.test = {"passed": False, "error": exc.message, "log": str(job.log)}
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
            self._engines.give_back(job)
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
            with open_private(job.log) as stream:
                stream.write(f"hwb matrix job {job.id}\nresult: {job.status}: {job.error}\n")
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


def _size(path: os.PathLike[str] | None) -> int | None:
    try:
        return os.stat(path).st_size if path is not None else None
    except OSError:
        return None


def _repair_word(repair: object) -> str:
    """The report's ``repair``: the repairer and its policy, or why nothing was done."""
    repairer, policy = getattr(repair, "repairer", None), getattr(repair, "policy", None)
    if getattr(repair, "repaired", False) and repairer:
        return f"{repairer} ({policy})" if policy else str(repairer)
    return str(getattr(repair, "reason", "") or "none")


def _warm_up(session: Session) -> None:
    """Fill process-wide lazy state in this thread before the workers read it: CPython's
    ``sysconfig`` fills its variables on first use without a lock (a second thread can see a
    half-filled dict), and the plugin manager caches its schema and isolations on first use."""
    import sysconfig

    sysconfig.get_config_vars()
    session.pm.schema()
    session.pm.isolations()


def run_matrix(
    options: MatrixOptions, session: Session, view: View, machine: Machine | None = None
) -> MatrixResult:
    """Plan and run the matrix. Job failures are in the result (see :meth:`MatrixResult.check`);
    errors of the whole run (bad options or configuration) raise :class:`HwbError`."""
    started = time.monotonic()
    with prepared_source(options.source, session, options.overrides) as root:
        project = Project.load(root)
        config = session.config_for(project, options.overrides)
        _warm_up(session)
        plan = make_plan(
            options, session, project, config, machine or this_machine(session, config)
        )
        if options.plan_only:  # --list and --emit hold only the jobs that can build
            plan.jobs, plan.left_out = buildable(plan.jobs, plan.requires_python)
        named = select(plan.jobs, options.only, None)
        plan.jobs = select(named, [], options.shard)
        if options.shard is not None and named and not plan.jobs:
            # Fewer jobs than shards (a CI matrix of fixed size over a plan that shrank): this
            # shard has nothing to do, which is no failure; hwb collect checks the whole.
            index, count = options.shard
            jobs = "1 job" if len(named) == 1 else f"{len(named)} jobs"
            plan.empty_shard = (
                f"shard {index}/{count} has no jobs: the matrix's {jobs} over {count} shards "
                f"{'leaves' if len(named) == 1 else 'leave'} none for it"
            )
            plan.notes.append(plan.empty_shard)
        if options.plan_only:
            return MatrixResult(plan, time.monotonic() - started)
        for note in plan.notes:
            session.reporter.info(note)
        # Containers (and whatever else isolations keep for the next job) are released when
        # the run ends, however it ends.
        with Scope() as scope:
            runner = Runner(plan, session, options, view, scope)
            try:
                runner.run()
            except KeyboardInterrupt:
                return MatrixResult(plan, time.monotonic() - started, interrupted=True)
    return MatrixResult(plan, time.monotonic() - started)
