"""``hwb matrix``: its command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from hwb import CommandLine


def register(cli: CommandLine) -> None:
    click = cli.click

    @cli.group.command()
    @click.argument("src", default=".", type=click.Path(path_type=Path))
    @cli.shared_options(
        "pythons",
        pythons={
            "help": "Interpreters, comma-separated: 3.11,3.12 (default: [tool.hwb.matrix] python, "
            "else every CPython 3.8+ found that satisfies requires-python)."
        },
    )
    @click.option(
        "--platform",
        "platform_list",
        multiple=True,
        metavar="LIST",
        help="Platforms: linux,macos,windows (default: this machine's, plus those with a "
        "[tool.hwb.matrix.<platform>] table).",
    )
    @click.option(
        "--arch",
        "arch_list",
        multiple=True,
        metavar="LIST",
        help="Architectures for every platform: x86_64,aarch64 (default: per platform).",
    )
    @click.option(
        "-j",
        "--parallel",
        type=click.IntRange(min=1),
        metavar="N",
        help="Jobs at once (default: the number of CPUs).",
    )
    @click.option(
        "-o",
        "--outdir",
        type=click.Path(path_type=Path),
        help="Output directory (default: dist/ in SRC).",
    )
    @click.option(
        "--log-dir",
        type=click.Path(path_type=Path),
        metavar="DIR",
        help="Where each job's log goes (default: .hwb-logs/ in the output directory).",
    )
    @click.option(
        "--fail-fast/--no-fail-fast", default=None, help="Stop every job after the first failure."
    )
    @cli.shared_options(
        "isolation",
        "config_settings",
        "verbose",
        config_settings={"help": "PEP 517 config setting for every job (repeatable)."},
        verbose={"help": "-v shows every job's output, -vv commands too."},
    )
    @click.option(
        "--list",
        "list_jobs",
        is_flag=True,
        help="Print every job's identifier and the command that builds it alone; build nothing.",
    )
    @click.option(
        "--only",
        "only_list",
        multiple=True,
        metavar="IDS",
        help="Run only these jobs, by identifier, comma-separated (cp312-manylinux_x86_64).",
    )
    @click.option(
        "--shard",
        metavar="K/N",
        help="Run the K-th of N deterministic slices of the matrix (1/4 ... 4/4).",
    )
    @click.option(
        "--emit",
        type=click.Choice(["github", "gitlab"]),
        help="Print the matrix for a CI system (JSON) and build nothing; see docs/ci.md.",
    )
    @click.option(
        "--report",
        type=click.Path(path_type=Path),
        metavar="FILE",
        help="Also write the --json report to FILE (hwb collect merges such reports).",
    )
    @cli.shared_options(
        "quiet",
        "json",
        quiet={"help": "Only failures on stderr."},
        json={"help": 'Print {"jobs": [...]} on stdout.'},
    )
    @click.pass_context
    def matrix(
        ctx: Any,
        src: Path,
        python_list: tuple[str, ...],
        platform_list: tuple[str, ...],
        arch_list: tuple[str, ...],
        parallel: int | None,
        outdir: Path | None,
        log_dir: Path | None,
        fail_fast: bool | None,
        isolation: str | None,
        no_isolation: bool,
        config_settings: tuple[str, ...],
        verbose: int,
        quiet: bool,
        list_jobs: bool,
        only_list: tuple[str, ...],
        shard: str | None,
        emit: str | None,
        report: Path | None,
        as_json: bool,
        **plugin_values: Any,
    ) -> int:
        """Build SRC for many interpreters, platforms and architectures at once.

        Jobs are python x platform x arch, less [[tool.hwb.matrix.exclude]]; each runs the same
        build as `hwb build`, with its own log. A job this machine cannot run is reported as
        skipped, with the reason. The exit code is 1 when any job failed.
        """
        from hwb.records import report_failures
        from hwb_plugins.matrix.jobs import MatrixOptions
        from hwb_plugins.matrix.runner import run_matrix
        from hwb_plugins.matrix.settings import split_list
        from hwb_plugins.matrix.slices import parse_shard
        from hwb_plugins.matrix.view import make_view, print_summary

        verbosity = -1 if quiet else verbose
        cli.set_output(verbosity=verbosity, json=as_json)
        session = cli.session(ctx)
        isolation = cli.resolve_isolation(isolation, no_isolation)
        report_failures(session)
        options = MatrixOptions(
            source=src,
            pythons=split_list(python_list),
            platforms=split_list(platform_list),
            arches=split_list(arch_list),
            parallel=parallel,
            outdir=outdir,
            log_dir=log_dir,
            fail_fast=fail_fast,
            isolation=isolation,
            config_settings=cli.config_settings(config_settings),
            overrides=cli.plugin_overrides(matrix, plugin_values),
            verbosity=verbosity,
            only=split_list(only_list),
            shard=parse_shard(shard),
            plan_only=list_jobs or emit is not None,
        )
        if options.plan_only:
            build_options = (matrix, ctx.params, config_settings)
            _print_plan(options, session, emit, as_json, build_options)
            return 0
        view = make_view(sys.stderr, verbosity)
        result = run_matrix(options, session, view)
        print_summary(result, sys.stderr, verbosity)
        jobs = result.to_json()["jobs"]
        session.pm.hook.matrix_jobs_done(
            command="matrix", jobs=jobs, config=result.plan.config, environ=session.environ
        )
        if report is not None:
            _write_report(report, result.to_json())
        if as_json:
            print(json.dumps(result.to_json(), indent=2))
        if result.interrupted:
            raise KeyboardInterrupt
        result.check()
        return 0

    cli.takes_plugin_options(matrix)


def _print_plan(
    options: Any, session: Any, emit: str | None, as_json: bool, build_options: Any
) -> None:
    """``--list`` and ``--emit``: the plan on stdout, nothing built or written. Jobs whose
    Python ``requires-python`` excludes are left out (said on stderr); every job's command
    carries the build options given."""
    from hwb_plugins.matrix import ci
    from hwb_plugins.matrix.carry import carried
    from hwb_plugins.matrix.runner import run_matrix

    result = run_matrix(options, session, _NoView())
    plan = result.plan
    source = ci.source_text(options.source)
    config = plan.config
    command, values, settings = build_options
    args = carried(command, values, options.isolation, settings, config, options.source, bool(emit))
    left_out, requires_python = plan.left_out, plan.requires_python
    if left_out:
        print(
            f"hwb: requires-python {requires_python!r} leaves out {len(left_out)} "
            f"{'job' if len(left_out) == 1 else 'jobs'} of the plan: "
            + ", ".join(job.id for job in left_out[:8])
            + (", ..." if len(left_out) > 8 else ""),
            file=sys.stderr,
        )
    if plan.excluded:
        print(
            f"hwb: [[tool.hwb.matrix.exclude]] leaves out {plan.excluded} "
            f"{'job' if plan.excluded == 1 else 'jobs'} of the plan",
            file=sys.stderr,
        )
    if emit is not None:
        # One line: what GitHub's $GITHUB_OUTPUT takes as it is (and valid YAML for GitLab).
        print(json.dumps(ci.emit(emit, plan, args, config, source)))
    elif as_json:
        chosen = _auto_choices(plan, session) if plan.asked_isolation == "auto" else {}
        print(json.dumps({"jobs": ci.listing(plan, args, source, chosen)}, indent=2))
    else:
        for line in ci.list_lines(plan):
            print(line)


def _auto_choices(plan: Any, session: Any) -> dict[str, str]:
    """What ``--isolation auto`` picks for each job that runs here, as its build would pick it
    (the ``select_isolation`` hook, then the first of its fallbacks that can run)."""
    from hwb import Project
    from hwb.isolation import choose

    project = Project.load(plan.root)
    chosen: dict[str, str] = {}
    for job in plan.runnable:
        if job.isolation or job.interpreter is None:
            continue
        foreign = job.arch if job.platform == "linux" and job.arch != "any" else None
        choice = choose(
            session.pm, session.reporter, project, job.interpreter, plan.config, "auto", foreign
        )
        chosen[job.id] = choice.name
    return chosen


def _write_report(path: Path, data: dict[str, Any]) -> None:
    """The report, written whole under a temporary name and renamed (a collect job never
    reads half of one)."""
    import os
    import tempfile

    from hwb import UsageError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".hwb-report-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2)
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(
            f"cannot write the report {path} ({exc.strerror or exc})",
            hint="choose a writable path for --report",
        ) from None


class _NoView:
    def start(self, plan: Any) -> None: ...
    def changed(self, job: Any) -> None: ...
    def message(self, job: Any, kind: str, text: str) -> None: ...
    def stop(self) -> None: ...
