"""A matrix job, the plan that holds them, and the outcome of a run."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from hwb import BuildError, PythonInfo

WAITING, RUNNING, OK, FAILED, SKIPPED = "waiting", "running", "ok", "failed", "skipped"

#: Interpreters older than this are left out of the automatic list: current backends
#: (setuptools, hatchling, flit-core, ...) no longer install on them.
OLDEST_AUTO_PYTHON = (3, 8)

LOG_DIR_NAME = ".hwb-logs"


class JobCancelled(KeyboardInterrupt):
    """Raised inside a job's thread when the run is stopping (Ctrl-C, ``--fail-fast``); a
    ``KeyboardInterrupt`` so that every cleanup written for Ctrl-C runs for it too."""


class MatrixFailed(BuildError):
    """At least one job of the matrix failed."""


# --------------------------------------------------------------------------- jobs

_WINDOWS_TAGS = {"x86_64": "win_amd64", "x86": "win32", "arm64": "win_arm64"}


def python_tag(label: str, interpreter: PythonInfo | None) -> str:
    """``cp312``, ``cp313t``, ``pp39`` for the interpreter found (or asked for: ``label``);
    the label itself, made safe for a file name, when it names no version."""
    from hwb import PythonSpec, UsageError

    if interpreter is not None:
        impl, version, free = (
            interpreter.implementation,
            interpreter.version_tuple,
            interpreter.free_threaded,
        )
    else:
        try:
            spec = PythonSpec.parse(label)
        except UsageError:
            spec = PythonSpec(raw=label, path=label)
        impl, version, free = spec.implementation or "cpython", spec.version, spec.free_threaded
        if spec.path is not None or len(version) < 2:
            return "".join(c if c.isalnum() or c in "._" else "_" for c in label).strip("_")
    prefix = {"cpython": "cp", "pypy": "pp"}.get(impl, impl)
    return f"{prefix}{version[0]}{version[1]}" + ("t" if free else "")


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
    """Isolation this job must use (one that emulates another architecture), else the run's."""
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    status: str = WAITING
    error: str | None = None
    """Why the job failed or was skipped (one line)."""
    wheel: Path | None = None
    size: int | None = None
    """The wheel's size in bytes."""
    repair: str | None = None
    """What repair did: the repairer and its policy, or why nothing was done."""
    isolation_used: str | None = None
    log: Path | None = None
    step: str = ""
    """The last thing the job reported doing (for the live table)."""
    test: dict[str, Any] | None = None
    """What trying its wheel found (``hwb.records.test_record``; a failed test's error), or
    ``None`` when nothing was tried."""
    started: float | None = None
    finished: float | None = None
    engines: list[str] = dataclasses.field(default_factory=list)
    """Container engines this job may go to (``hosts`` of its strategy, those that answered)."""
    engine_key: str | None = None
    """The key that names the engine of one build (``isolation.docker.host``)."""
    engine: str | None = None
    """The engine the job went to."""

    family: str = "manylinux"
    """The Linux wheel family the job makes (``manylinux``, ``musllinux``), for its id."""
    suffix: str = ""
    """Added to the id when two jobs would otherwise share one (``3.12`` and ``3.12.1``)."""

    @property
    def id(self) -> str:
        """The job's identifier, written as cibuildwheel writes its builds: the interpreter's
        tag and the wheel's platform (``cp312-manylinux_x86_64``, ``cp313t-manylinux_x86_64``,
        ``pp39-manylinux_x86_64``, ``cp312-macosx_arm64``, ``cp312-win_amd64``); a pure
        project's one job is ``py3-none-any``."""
        if self.platform == "any":
            return "py3-none-any" + self.suffix
        return f"{python_tag(self.python, self.interpreter)}-{self.platform_tag}{self.suffix}"

    @property
    def platform_tag(self) -> str:
        if self.platform == "linux":
            return f"{self.family}_{self.arch}"
        if self.platform == "macos":
            return f"macosx_{self.arch}"
        if self.platform == "windows":
            return _WINDOWS_TAGS.get(self.arch, f"win_{self.arch}")
        return f"{self.platform}_{self.arch}"

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
            "size": self.size,
            "duration_s": round(self.duration_s, 3),
            "error": self.error,
            "log": str(self.log) if self.log else None,
            "engine": self.engine,
            "test": self.test,
            "repair": self.repair,
        }

    @property
    def test_word(self) -> str:
        """The test column: ``passed``, ``failed``, ``skipped`` or nothing."""
        if self.test is None:
            return ""
        if not self.test.get("passed"):
            return "failed"
        return "skipped" if self.test.get("skipped") else "passed"


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
    only: list[str] = dataclasses.field(default_factory=list)
    """``--only``: the identifiers of the jobs to run."""
    shard: tuple[int, int] | None = None
    """``--shard K/N``: run the K-th of N slices."""
    plan_only: bool = False
    """``--list``, ``--emit``: plan, create nothing, run nothing."""


@dataclasses.dataclass
class Plan:
    jobs: list[Job]
    root: Path
    outdir: Path
    log_dir: Path
    parallel: int
    fail_fast: bool
    asked_isolation: str
    excluded: int = 0
    notes: list[str] = dataclasses.field(default_factory=list)
    config: Any = None
    """The run's resolved configuration (:class:`hwb_core.config.Config`)."""
    empty_shard: str | None = None
    """Why ``--shard K/N`` left no job (fewer jobs than shards): nothing to run, no failure."""
    requires_python: str | None = None
    """The project's ``requires-python``."""
    left_out: list[Job] = dataclasses.field(default_factory=list)
    """``--list``, ``--emit``: the jobs left out because ``requires-python`` excludes their
    Python (a build reports them skipped instead)."""

    @property
    def runnable(self) -> list[Job]:
        return [job for job in self.jobs if job.status == WAITING]


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
        if self.plan.empty_shard is not None:
            return
        if not self.jobs:
            raise BuildError(
                "the matrix holds no jobs",
                hint="its excludes leave none; hwb matrix --list shows the plan",
            )
        if not self.count(OK):
            raise BuildError(
                f"no job of the matrix could run on this machine ({self.count(SKIPPED)} skipped)",
                hint="the reasons are listed above; choose platforms and architectures this machine builds",
            )
