"""``hwb matrix --emit gitlab``: the child pipeline.

GitLab names each job of a ``parallel:matrix`` after the values of its variables, and refuses
a pipeline with a job name of 255 characters or more: so the entries hold short values only
(the job's id, runner tag, Python, platform, architecture), and the command is written once, in
the job's script, from those variables and the options every job shares. One
``parallel:matrix`` holds at most 200 entries, so a larger plan becomes several build jobs.
Windows runners run PowerShell: their entries go to build jobs of their own whose script is
PowerShell.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hwb import Config, UsageError
from hwb_plugins.matrix.ci import (
    CI_OUTDIR,
    CI_REPORTS,
    GITLAB_MAX_ENTRIES,
    GITLAB_MAX_NAME,
    runner_table,
)

_VARIABLES = ("HWB_JOB", "HWB_RUNNER", "HWB_PYTHON", "HWB_PLATFORM", "HWB_ARCH")


def pipeline(
    entries: Sequence[Mapping[str, str]], carried: Sequence[str], source: str, config: Config
) -> dict[str, Any]:
    """``build-wheel`` (``build-wheel-2``, ... past 200 entries; ``build-wheel-windows`` for
    Windows runners) runs every entry, each on the runner tagged for it; then
    ``collect-wheels`` merges their reports against the parent's ``plan.json`` (``hwb
    collect``) and keeps every wheel as one artifact."""
    before = list(config.get("matrix.gitlab.before-script") or [])
    pure = all(e["platform"] == "any" for e in entries)
    jobs: dict[str, Any] = {}
    for shell, name in (("bash", "build-wheel"), ("powershell", "build-wheel-windows")):
        group = [e for e in entries if (e["platform"] == "windows") == (shell == "powershell")]
        chunks = [
            group[i : i + GITLAB_MAX_ENTRIES] for i in range(0, len(group), GITLAB_MAX_ENTRIES)
        ]
        for number, chunk in enumerate(chunks, 1):
            job_name = name if number == 1 else f"{name}-{number}"
            matrix = [_variables(e, job_name) for e in chunk]
            jobs[job_name] = {
                "stage": "build",
                "parallel": {"matrix": matrix},
                "tags": ["$HWB_RUNNER"],
                "before_script": before,
                "script": [_script(shell, source, carried, pure)],
                "artifacts": {"when": "always", "paths": [f"{CI_OUTDIR}/", f"{CI_REPORTS}/"]},
            }
    linux = runner_table(config, "gitlab")["linux-x86_64"]
    return {
        "stages": ["build", "collect"],
        **jobs,
        "collect-wheels": {
            "stage": "collect",
            "when": "always",
            "tags": [linux],
            "needs": [*jobs, {"pipeline": "$PARENT_PIPELINE_ID", "job": "plan"}],
            "before_script": before,
            "script": [f"hwb collect {CI_REPORTS}/*.json --plan plan.json"],
            "artifacts": {"paths": [f"{CI_OUTDIR}/"]},
        },
    }


def _variables(entry: Mapping[str, str], job_name: str) -> dict[str, str]:
    values = [entry["id"], entry["runner"], entry["python"], entry["platform"], entry["arch"]]
    name = f"{job_name}: [{', '.join(values)}]"
    if len(name) >= GITLAB_MAX_NAME:
        raise UsageError(
            f"the GitLab job for {entry['id']} would be named in {len(name)} characters; "
            f"GitLab refuses names of {GITLAB_MAX_NAME} or more",
            hint="name the interpreter by its version (3.12), not a path, and the runner by a "
            "short tag",
        )
    return dict(zip(_VARIABLES, values, strict=True))


def _script(shell: str, source: str, carried: Sequence[str], pure: bool) -> str:
    """One command, for every entry, from its variables: bash, or PowerShell (``$env:X``)."""
    names = ["HWB_PYTHON"] if pure else ["HWB_PYTHON", "HWB_PLATFORM", "HWB_ARCH"]
    flags = ["--python"] if pure else ["--python", "--platform", "--arch"]
    sigil = "$" if shell == "bash" else "$env:"
    quote: Callable[[str], str] = shlex.quote if shell == "bash" else _ps_quote
    words = ["hwb", "matrix", quote(source), "--only", f'"{sigil}HWB_JOB"', "-o", CI_OUTDIR]
    words += ["--report", f'"{CI_REPORTS}/{sigil}HWB_JOB.json"']
    for flag, name in zip(flags, names, strict=True):
        words += [flag, f'"{sigil}{name}"']
    words += [quote(word) for word in carried]
    return " ".join(words)


def _ps_quote(word: str) -> str:
    """A PowerShell argument as written: bare when plain, else single-quoted."""
    if word and all(c.isalnum() or c in "-_./=:,+" for c in word):
        return word
    return "'" + word.replace("'", "''") + "'"
