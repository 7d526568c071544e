"""``hwb build SRC``: one wheel, published into the output directory.

Exit codes are the core's: 0 built, 1 build failed (a reproducibility check that found a
difference too), 2 usage or configuration error, 130 interrupted. With ``--json`` stdout holds
``{"wheels": [...]}`` and nothing else.
"""

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
    @click.option(
        "-o",
        "--outdir",
        type=click.Path(path_type=Path),
        help="Output directory (default: dist/ in SRC).",
    )
    @cli.shared_options("isolation", "python", "config_settings", "verbose", "quiet", "json")
    @click.pass_context
    def build(
        ctx: Any,
        src: Path,
        outdir: Path | None,
        isolation: str | None,
        no_isolation: bool,
        python_spec: str | None,
        config_settings: tuple[str, ...],
        verbose: int,
        quiet: bool,
        as_json: bool,
        **plugin_values: Any,
    ) -> int:
        """Build a wheel from SRC (a project directory or an sdist)."""
        from hwb import BuildRequest
        from hwb import build as run_build
        from hwb.records import report_failures, result_json

        cli.set_output(verbosity=-1 if quiet else verbose, json=as_json, streamed=verbose >= 1)
        isolation = cli.resolve_isolation(isolation, no_isolation)
        session = cli.session(ctx, status=_status_line(as_json or quiet))
        report_failures(session)
        request = BuildRequest(
            source=src,
            outdir=outdir,
            python=python_spec,
            isolation=isolation,
            config_settings=cli.config_settings(config_settings),
            overrides=cli.plugin_overrides(build, plugin_values),
            keep_log=True,
        )
        result = run_build(request, session)
        session.reporter.close()
        if as_json:
            print(json.dumps({"wheels": [result_json(result)]}, indent=2))
        elif not quiet:
            repaired = f", repaired by {result.repair.repairer}" if result.repair.repaired else ""
            print(
                f"built {result.path} ({result.isolation}{repaired}, {result.duration_s:.1f}s)",
                file=sys.stderr,
            )
        if result.reproducible is not None and not result.reproducible.identical:
            from hwb import BuildError

            raise BuildError(result.reproducible.describe(), hint="docs/reproducibility.md")
        return 0

    cli.takes_plugin_options(build)


def _status_line(quiet: bool) -> Any:
    """The live status line, where someone watches a terminal that can redraw a line (never
    with ``--json`` or ``-q``); ``None`` elsewhere."""
    from hwb import live_wanted, use_color

    if quiet or not live_wanted(sys.stderr):
        return None
    from hwb_plugins.build_command.status import LiveStatus

    return LiveStatus(sys.stderr, use_color(sys.stderr))
