"""The matrix written for CI: ``--list`` (every job and the command that builds it alone) and
``--emit github|gitlab`` (a document for the CI's own matrix, one entry per job, each on a
runner that builds it natively)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hwb import Config, UsageError
from hwb_plugins.matrix.jobs import WAITING, Job, Plan
from hwb_plugins.matrix.runners import DEFAULT_RUNNERS

#: The most jobs one GitHub Actions matrix may hold, and one GitLab ``parallel:matrix``.
GITHUB_MAX_JOBS = 256
GITLAB_MAX_ENTRIES = 200
#: GitLab refuses a pipeline with a job name this long or longer.
GITLAB_MAX_NAME = 255

#: Where the emitted commands put their wheels and reports (what the documented workflows
#: upload, and what ``hwb collect`` reads).
CI_OUTDIR = "wheelhouse"
CI_REPORTS = "hwb-reports"


def runner(config: Config, ci: str, job: Job) -> str:
    """The runner label (GitHub) or tag (GitLab) for ``job``: ``matrix.<ci>.runners`` over the
    defaults of ``runners.toml``. On GitHub, a Linux architecture without a runner of its own
    goes to the x86_64 one, which emulates it (:func:`emulated`); GitLab's hosted runners give
    a job no Docker engine to emulate in, so there, as for any other job with no runner, it is
    a usage error naming the key to set."""
    table = runner_table(config, ci)
    key = f"{job.platform}-{job.arch}"
    if key in table:
        return str(table[key])
    if job.platform == "linux" and ci == "github":
        return str(table["linux-x86_64"])
    where = f"[tool.hwb.matrix.{ci}.runners]"
    if job.platform == "linux":
        raise UsageError(
            f"{job.id}: {ci} has no hosted runner for {key}, its amd64 runners run a job with "
            f"no Docker engine to emulate {job.arch} in, and {where} names none",
            hint=f'set {key} = "TAG" there to a runner of your own that builds {job.arch} '
            "(the image is quay.io/pypa's manylinux image of the architecture unless "
            "[tool.hwb.matrix.gitlab.images] says otherwise), or exclude the job "
            "([[tool.hwb.matrix.exclude]])",
        )
    raise UsageError(
        f"{job.id}: {ci} has no hosted runner for {key} and {where} names none",
        hint=f'set {key} = "TAG" there to a runner of your own, or exclude the job '
        "([[tool.hwb.matrix.exclude]])",
    )


def emulated(config: Config, ci: str, job: Job) -> bool:
    """Whether ``job`` runs on a runner of another architecture, which builds it in a
    container under qemu (a Linux architecture with no runner of its own, on GitHub)."""
    return job.platform == "linux" and f"linux-{job.arch}" not in runner_table(config, ci)


def runner_table(config: Config, ci: str) -> dict[str, str]:
    """The defaults of ``runners.toml`` with ``[tool.hwb.matrix.<ci>.runners]`` over them."""
    given = config.get(f"matrix.{ci}.runners") or {}
    return {**DEFAULT_RUNNERS[ci], **{str(k): str(v) for k, v in given.items()}}


def command(job: Job, carried: Sequence[str], source: str) -> str:
    """The command that builds ``job`` alone, wherever its runner is: the job's own Python,
    platform and architecture, so the plan made there holds it whatever that machine's
    defaults are, and the build options given to the plan (``carried``)."""
    return shlex.join(["hwb", "matrix", source, *job_arguments(job), *carried])


def job_arguments(job: Job) -> list[str]:
    argv = ["--only", job.id, "-o", CI_OUTDIR, "--report", f"{CI_REPORTS}/{job.id}.json"]
    argv += ["--python", job.python]
    if job.platform != "any":
        argv += ["--platform", job.platform, "--arch", job.arch]
    return argv


def listing(
    plan: Plan, carried: Sequence[str], source: str, chosen: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """``--list --json``: every job of the plan, with whether it runs on this machine and the
    isolation that builds it (``chosen``: what ``auto`` picks for the jobs that run here)."""
    chosen = chosen or {}
    return [
        {
            "id": job.id,
            "python": job.python,
            "python_version": job.interpreter.version if job.interpreter else None,
            "platform": job.platform,
            "arch": job.arch,
            "isolation": job.isolation or chosen.get(job.id) or plan.asked_isolation,
            "here": job.status == WAITING,
            "reason": None if job.status == WAITING else job.error,
            "command": command(job, carried, source),
        }
        for job in plan.jobs
    ]


def list_lines(plan: Plan) -> list[str]:
    width = max((len(job.id) for job in plan.jobs), default=2)
    lines = []
    for job in plan.jobs:
        where = "runs here" if job.status == WAITING else f"not here: {job.error}"
        lines.append(f"{job.id:<{width}}  {where}")
    return lines


def emit(ci: str, plan: Plan, carried: Sequence[str], config: Config, source: str) -> Any:
    """``--emit github``: ``{"include": [...]}`` for ``strategy.matrix`` (at most 256 jobs: more
    is a usage error that says how to shard); ``--emit gitlab``: a child pipeline."""
    if ci == "github" and len(plan.jobs) > GITHUB_MAX_JOBS:
        raise UsageError(
            f"the matrix has {len(plan.jobs)} jobs; a GitHub Actions matrix holds at most "
            f"{GITHUB_MAX_JOBS}",
            hint=f"emit it in {-(-len(plan.jobs) // GITHUB_MAX_JOBS)} or more slices, one build "
            "job each: hwb matrix --emit github --shard 1/N ... --shard N/N (docs/ci.md)",
        )
    entries = [
        {
            "id": job.id,
            "runner": runner(config, ci, job),
            "command": command(job, carried, source),
            "artifact": f"wheels-{job.id}",
            "python": job.python,
            "platform": job.platform,
            "arch": job.arch,
        }
        for job in plan.jobs
    ]
    if ci == "github":
        flags = [emulated(config, ci, job) for job in plan.jobs]
        return {"include": [{**e, "emulated": f} for e, f in zip(entries, flags, strict=True)]}
    from hwb_plugins.matrix import gitlab

    return gitlab.pipeline(entries, carried, source, config)


def source_text(source: Path) -> str:
    """The source as the commands name it: relative to the current directory when inside it
    (a CI checkout), else as given."""
    try:
        return str(source.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(source)


def planned_ids(plan: Plan) -> Sequence[str]:
    return [job.id for job in plan.jobs]
