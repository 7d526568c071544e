"""The matrix written for CI: ``--list`` (every job and the command that builds it alone) and
``--emit github|gitlab`` (a document for the CI's own matrix, one entry per job, each on a
runner that builds it natively)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hwb import Config
from hwb_plugins.matrix.jobs import WAITING, Job, MatrixOptions, Plan

#: The runner label that builds each platform-architecture natively on GitHub Actions.
GITHUB_RUNNERS = {
    "linux-x86_64": "ubuntu-latest",
    "linux-aarch64": "ubuntu-24.04-arm",
    "linux-i686": "ubuntu-latest",
    "macos-x86_64": "macos-13",
    "macos-arm64": "macos-14",
    "macos-universal2": "macos-14",
    "windows-x86_64": "windows-latest",
    "windows-x86": "windows-latest",
    "windows-arm64": "windows-11-arm",
    "any-any": "ubuntu-latest",
}

#: The same for GitLab's hosted runners (their tags).
GITLAB_TAGS = {
    "linux-x86_64": "saas-linux-small-amd64",
    "linux-aarch64": "saas-linux-small-arm64",
    "linux-i686": "saas-linux-small-amd64",
    "macos-x86_64": "saas-macos-medium-m1",
    "macos-arm64": "saas-macos-medium-m1",
    "macos-universal2": "saas-macos-medium-m1",
    "windows-x86_64": "saas-windows-medium-amd64",
    "windows-x86": "saas-windows-medium-amd64",
    "any-any": "saas-linux-small-amd64",
}

#: Where the emitted commands put their wheels and reports (what the documented workflows
#: upload, and what ``hwb collect`` reads).
CI_OUTDIR = "wheelhouse"
CI_REPORTS = "hwb-reports"


def runner(config: Config, ci: str, job: Job) -> str:
    """The runner label (GitHub) or tag (GitLab) for ``job``: ``matrix.<ci>.runners`` over the
    defaults; Linux architectures without a native runner of their own go to the x86_64 one
    (and its emulation)."""
    defaults = GITHUB_RUNNERS if ci == "github" else GITLAB_TAGS
    table: Mapping[str, Any] = {**defaults, **(config.get(f"matrix.{ci}.runners") or {})}
    key = f"{job.platform}-{job.arch}"
    if key in table:
        return str(table[key])
    return str(table.get(f"{job.platform}-x86_64", table["linux-x86_64"]))


def command(job: Job, options: MatrixOptions, source: str) -> str:
    """The command that builds ``job`` alone, wherever its runner is: the job's own Python,
    platform and architecture, so the plan made there holds it whatever that machine's
    defaults are."""
    argv = ["hwb", "matrix", source, "--only", job.id, "-o", CI_OUTDIR]
    argv += ["--report", f"{CI_REPORTS}/{job.id}.json"]
    if job.platform != "any":
        argv += ["--python", job.python, "--platform", job.platform, "--arch", job.arch]
    else:
        argv += ["--python", job.python]
    if options.isolation:
        argv += ["--isolation", options.isolation]
    return shlex.join(argv)


def listing(
    plan: Plan, options: MatrixOptions, source: str, chosen: Mapping[str, str] | None = None
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
            "command": command(job, options, source),
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


def emit(ci: str, plan: Plan, options: MatrixOptions, config: Config, source: str) -> Any:
    """``--emit github``: ``{"include": [...]}`` for ``strategy.matrix``; ``--emit gitlab``: a
    child pipeline whose one job runs every entry of ``parallel:matrix``."""
    entries = [
        {
            "id": job.id,
            "runner": runner(config, ci, job),
            "command": command(job, options, source),
            "artifact": f"wheels-{job.id}",
            "python": job.python,
            "platform": job.platform,
            "arch": job.arch,
        }
        for job in plan.jobs
    ]
    if ci == "github":
        return {"include": entries}
    return gitlab_pipeline(entries, config)


def gitlab_pipeline(entries: Sequence[Mapping[str, str]], config: Config) -> dict[str, Any]:
    """A child pipeline: ``build-wheel`` runs every entry (``parallel:matrix``, each on the
    runner tagged for it), then ``collect-wheels`` merges their reports against the parent's
    ``plan.json`` (``hwb collect``) and keeps every wheel as one artifact."""
    before = list(config.get("matrix.gitlab.before-script") or [])
    linux = str({**GITLAB_TAGS, **(config.get("matrix.gitlab.runners") or {})}["linux-x86_64"])
    return {
        "stages": ["build", "collect"],
        "build-wheel": {
            "stage": "build",
            "parallel": {
                "matrix": [
                    {"HWB_JOB": e["id"], "HWB_RUNNER": e["runner"], "HWB_COMMAND": e["command"]}
                    for e in entries
                ]
            },
            "tags": ["$HWB_RUNNER"],
            "before_script": before,
            "script": ['eval "$HWB_COMMAND"'],
            "artifacts": {"when": "always", "paths": [f"{CI_OUTDIR}/", f"{CI_REPORTS}/"]},
        },
        "collect-wheels": {
            "stage": "collect",
            "when": "always",
            "tags": [linux],
            "needs": ["build-wheel", {"pipeline": "$PARENT_PIPELINE_ID", "job": "plan"}],
            "before_script": before,
            "script": [f"hwb collect {CI_REPORTS}/*.json --plan plan.json"],
            "artifacts": {"paths": [f"{CI_OUTDIR}/"]},
        },
    }


def source_text(source: Path) -> str:
    """The source as the commands name it: relative to the current directory when inside it
    (a CI checkout), else as given."""
    try:
        return str(source.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(source)


def planned_ids(plan: Plan) -> Sequence[str]:
    return [job.id for job in plan.jobs]
