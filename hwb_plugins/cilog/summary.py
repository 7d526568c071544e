"""The job summary of ``hwb matrix`` and ``hwb collect`` on GitHub: a Markdown table of the
jobs appended to the file ``$GITHUB_STEP_SUMMARY`` names, which GitHub shows on the run's page
(https://docs.github.com/actions/reference/workflow-commands-for-github-actions#adding-a-job-summary)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_MARK = {"ok": "✅", "failed": "❌", "skipped": "⏭️"}


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") if text not in (None, "") else ""


def _size(size: Any) -> str:
    if not isinstance(size, int):
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _test(test: Any) -> str:
    if not isinstance(test, dict):
        return ""
    if not test.get("passed"):
        return "failed"
    return "skipped" if test.get("skipped") else "passed"


def table(command: str, jobs: Sequence[Mapping[str, Any]]) -> str:
    """The summary: a heading, one row per job, the counts."""
    rows = [
        f"### hwb {command}: {len(jobs)} {'job' if len(jobs) == 1 else 'jobs'}",
        "",
        "| job | status | wheel | size | time | test | repair |",
        "| --- | --- | --- | ---: | ---: | --- | --- |",
    ]
    for job in jobs:
        status = str(job.get("status", "?"))
        wheel = Path(job["wheel"]).name if job.get("wheel") else job.get("error")
        duration = job.get("duration_s")
        time = f"{duration:.1f} s" if isinstance(duration, (int, float)) else ""
        rows.append(
            f"| `{_cell(job.get('id'))}` | {_MARK.get(status, '')} {status} | {_cell(wheel)} "
            f"| {_size(job.get('size'))} | {time} | {_test(job.get('test'))} "
            f"| {_cell(job.get('repair'))} |"
        )
    counts: dict[str, int] = {}
    for job in jobs:
        counts[str(job.get("status", "?"))] = counts.get(str(job.get("status", "?")), 0) + 1
    rows += ["", ", ".join(f"{n} {status}" for status, n in sorted(counts.items())), ""]
    return "\n".join(rows) + "\n"


def append_summary(path: Path, command: str, jobs: Sequence[Mapping[str, Any]]) -> None:
    """Append the table to ``path``; a summary that cannot be written is no failure of the
    build (GitHub shows none)."""
    try:
        with path.open("a", encoding="utf-8") as stream:
            stream.write(table(command, jobs))
    except OSError:
        pass
