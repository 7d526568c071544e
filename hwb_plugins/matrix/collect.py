"""``hwb collect``: the reports of a matrix run in pieces (CI jobs, ``--shard``, ``--only``)
merged into one summary, with the exit code of a single run; with ``--plan``, a planned job
that no report mentions fails the collection too."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hwb import BuildError, CommandLine, UsageError

#: Which of two records of the same job (a job run again) the summary keeps.
_RANK = {"ok": 3, "failed": 2, "skipped": 1}


def register(cli: CommandLine) -> None:
    click = cli.click

    @cli.group.command()
    @click.argument("reports", nargs=-1, required=True, type=click.Path(path_type=Path))
    @click.option(
        "--plan",
        type=click.Path(path_type=Path),
        metavar="FILE",
        help="The planned jobs (`hwb matrix --list --json` or `--emit github`): any not "
        "reported fails the collection.",
    )
    @click.option("-q", "--quiet", is_flag=True, help="Only failures on stderr.")
    @click.option("--json", "as_json", is_flag=True, help="Print the merged report on stdout.")
    @click.pass_context
    def collect(
        ctx: Any,
        reports: tuple[Path, ...],
        plan: Path | None,
        quiet: bool,
        as_json: bool,
        **plugin_values: Any,
    ) -> int:
        """Merge the JSON reports of matrix jobs (`hwb matrix --report FILE`) into one summary.

        Exit code 1 when a job failed or a planned job has no report.
        """
        cli.set_output(verbosity=-1 if quiet else 0, json=as_json)
        jobs = merge([(path, _read(path)) for path in reports])
        planned = _planned(plan, _read(plan)) if plan is not None else []
        missing = [job_id for job_id in planned if job_id not in jobs]
        summary = summarize(list(jobs.values()), missing, quiet)
        print(summary, file=sys.stderr)
        session = cli.session(ctx)
        config = session.config_for(None, cli.plugin_overrides(collect, plugin_values))
        session.pm.hook.matrix_jobs_done(
            command="collect", jobs=list(jobs.values()), config=config, environ=session.environ
        )
        if as_json:
            print(json.dumps({"jobs": list(jobs.values()), "missing": missing}, indent=2))
        failed = [j["id"] for j in jobs.values() if j.get("status") == "failed"]
        if failed or missing:
            parts = []
            if failed:
                parts.append(f"{len(failed)} failed ({', '.join(failed[:5])})")
            if missing:
                parts.append(f"{len(missing)} planned but not reported ({', '.join(missing[:5])})")
            raise BuildError(
                "the matrix did not succeed: " + "; ".join(parts),
                hint="a failed job's log is named in its report; a job with no report did not "
                "run or did not upload it",
            )
        if not any(j.get("status") == "ok" for j in jobs.values()):
            raise BuildError("no job of the reports built a wheel")
        return 0

    cli.takes_plugin_options(collect)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(
            f"cannot read {path} ({exc.strerror or exc})",
            hint="give the reports written by hwb matrix --report (or --json)",
        ) from None
    except ValueError as exc:
        raise UsageError(
            f"{path} is not JSON ({exc})",
            hint="give the reports written by hwb matrix --report (or --json)",
        ) from None


def merge(documents: Sequence[tuple[Path, Any]]) -> dict[str, dict[str, Any]]:
    """Every job of every report (a file and what it holds) by identifier; a job reported twice
    keeps its best record (``ok`` over ``failed`` over ``skipped``)."""
    jobs: dict[str, dict[str, Any]] = {}
    for path, document in documents:
        records = document.get("jobs") if isinstance(document, dict) else None
        if not isinstance(records, list) or not all(
            isinstance(r, dict) and "id" in r for r in records
        ):
            raise UsageError(
                f"{path}: a report holds no list of jobs",
                hint='a report is the {"jobs": [...]} object hwb matrix --report writes',
            )
        for record in records:
            known = jobs.get(record["id"])
            if known is None or _RANK.get(record.get("status", ""), 0) > _RANK.get(
                known.get("status", ""), 0
            ):
                jobs[record["id"]] = record
    return jobs


def _planned(path: Path, document: Any) -> list[str]:
    """The identifiers of ``--list --json`` (``jobs``) or ``--emit github`` (``include``)."""
    if isinstance(document, dict):
        entries = document.get("jobs", document.get("include"))
        if isinstance(entries, list) and all(isinstance(e, dict) and "id" in e for e in entries):
            return [str(e["id"]) for e in entries]
    raise UsageError(
        f"{path}: the plan holds no list of jobs",
        hint="give the output of hwb matrix --list --json or --emit github",
    )


def summarize(jobs: Sequence[dict[str, Any]], missing: Sequence[str], quiet: bool) -> str:
    lines = []
    for job in jobs:
        if job.get("status") == "failed":
            lines.append(f"  failed  {job['id']}: {job.get('error')} (log: {job.get('log')})")
    for job_id in missing:
        lines.append(f"  missing {job_id}: planned, but no report mentions it")
    if not quiet:
        width = max((len(j["id"]) for j in jobs), default=2)
        for job in jobs:
            test = job.get("test") or {}
            word = "" if not test else ("test passed" if test.get("passed") else "test failed")
            wheel = Path(job["wheel"]).name if job.get("wheel") else job.get("error") or ""
            lines.append(
                f"  {job['id']:<{width}}  {job.get('status', '?'):<7}  {word:<11}  {wheel}"
            )
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.get("status", "?")] = counts.get(job.get("status", "?"), 0) + 1
    text = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    if missing:
        text += f", {len(missing)} missing"
    lines.append(f"collect: {text or 'nothing reported'} from the reports")
    return "\n".join(lines)
