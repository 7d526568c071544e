"""``hwb repair``: repair wheels built elsewhere with the repairer plugins a build uses.

Each wheel goes through :func:`hwb.repair` (the ``repair_stage`` hook) on the host (``env=None``), so the
same repairers and the same organizations' policies see it as after ``hwb build``, and is
published atomically into the output directory.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwb import CommandLine, HwbError, RepairError, UsageError

DEFAULT_OUTDIR = Path("wheelhouse")


def register(cli: CommandLine) -> None:
    click = cli.click

    @cli.group.command()
    @click.argument(
        "wheels", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="WHEEL..."
    )
    @click.option(
        "-o",
        "--outdir",
        type=click.Path(path_type=Path),
        help="Where the repaired wheels go (default: wheelhouse/).",
    )
    @click.option(
        "--policy",
        "--plat",
        "policy",
        metavar="POLICY",
        help="Platform policy: manylinux_2_28, manylinux2014, musllinux_1_2 (default: the most "
        "compatible one each wheel meets).",
    )
    @click.option(
        "--exclude",
        multiple=True,
        metavar="PATTERN",
        help="Library never to bundle, a shell-style pattern (repeatable; replaces repair.exclude).",
    )
    @click.option("--lib-sdir", metavar="DIR", help="Where bundled libraries go in the wheel.")
    @click.option("--strip", is_flag=True, default=None, help="Strip debugging symbols.")
    @click.option(
        "--fuse",
        is_flag=True,
        help="Repair each wheel, then merge them into one (two thin macOS wheels into universal2).",
    )
    @click.option(
        "--project",
        type=click.Path(path_type=Path),
        metavar="DIR",
        help="Read [tool.hwb] from DIR/pyproject.toml (default: the current directory's, if any).",
    )
    @cli.shared_options(
        "verbose",
        "quiet",
        "json",
        verbose={"help": "-v shows the repair tool's output, -vv commands too."},
        json={"help": 'Print {"wheels": [...]} on stdout.'},
    )
    @click.pass_context
    def repair(
        ctx: Any,
        wheels: tuple[Path, ...],
        outdir: Path | None,
        policy: str | None,
        exclude: tuple[str, ...],
        lib_sdir: str | None,
        strip: bool | None,
        fuse: bool,
        project: Path | None,
        verbose: int,
        quiet: bool,
        as_json: bool,
    ) -> int:
        """Repair WHEEL... built elsewhere (python -m build, pip wheel, another CI) into portable
        wheels: auditwheel for Linux wheels, delocate for macOS wheels, and every installed policy
        plugin. Pure wheels are copied unchanged."""
        cli.set_output(verbosity=-1 if quiet else verbose, json=as_json, streamed=verbose >= 1)
        from hwb.records import report_failures

        session = cli.session(ctx)
        report_failures(session)
        overrides: dict[str, Any] = {
            "repair.policy": policy,
            "repair.exclude": list(exclude) or None,
            "repair.lib-sdir": lib_sdir,
            "repair.strip": strip,
        }
        done = repair_wheels(
            session, list(wheels), outdir or DEFAULT_OUTDIR, project, overrides, fuse
        )
        if as_json:
            print(json.dumps({"wheels": [item.to_json() for item in done.items]}, indent=2))
        elif not quiet:
            for item in done.items:
                print(item.describe(), file=sys.stderr)
        done.check()
        return 0


@dataclass
class Repaired:
    inputs: list[Path]
    result: Any  # RepairResult, its path replaced by the published file

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return {
            "input": str(self.inputs[0])
            if len(self.inputs) == 1
            else [str(p) for p in self.inputs],
            "path": str(r.path),
            "filename": r.path.name,
            "repaired": r.repaired,
            "repairer": r.repairer,
            "policy": r.policy,
            "bundled": list(r.bundled),
            "repair_note": r.reason,
            "checked_by": list(r.checked_by),
        }

    def describe(self) -> str:
        r = self.result
        how = f"repaired by {r.repairer}" if r.repaired else (r.reason or "unchanged")
        bundled = f", bundled {', '.join(r.bundled)}" if r.repaired and r.bundled else ""
        return f"{' + '.join(p.name for p in self.inputs)} -> {r.path} ({how}{bundled})"


@dataclass
class RepairRun:
    items: list[Repaired]
    failures: list[tuple[Path, HwbError]]

    def check(self) -> None:
        """Raise the failure (one wheel) or a summary of them (several)."""
        if not self.failures:
            return
        if len(self.failures) == 1 and not self.items:
            raise self.failures[0][1]
        names = "; ".join(f"{p.name}: {e.one_line()}" for p, e in self.failures)
        total = len(self.failures) + len(self.items)
        raise RepairError(f"{len(self.failures)} of {total} wheels could not be repaired ({names})")


def repair_wheels(
    session: Any,
    wheels: list[Path],
    outdir: Path,
    project_dir: Path | None,
    overrides: dict[str, Any],
    fuse: bool,
) -> RepairRun:
    from hwb import check_outdir, publish, repair, repair_request, wheelfile
    from hwb.repairs import check_repair_stage

    check_repair_stage(session)
    for wheel in wheels:
        if not wheel.is_file():
            raise UsageError(f"{wheel} is not a file", hint="give paths of .whl files")
        wheelfile.platform_tags(wheel)  # a UsageError for a name that is not a wheel's
    if fuse and len(wheels) < 2:
        raise UsageError("--fuse needs at least two wheels", hint="give one wheel per architecture")
    project = _project(project_dir)
    config = session.config_for(project, overrides)
    if config.get("repair.mode") == "skip":
        # Asking for `hwb repair` is asking for repair, whatever the project's build does.
        config = config.with_overrides({"repair.mode": "auto"}, source="hwb repair")
    outdir = outdir.absolute()
    check_outdir(outdir)
    run = RepairRun([], [])
    with tempfile.TemporaryDirectory(prefix="hwb-repair-") as tmp:
        results = []
        for index, wheel in enumerate(wheels):
            try:
                results.append(
                    repair(session, wheel.resolve(), None, config, None, Path(tmp, str(index)))
                )
            except HwbError as exc:
                if fuse:
                    raise
                run.failures.append((wheel, exc))
                if len(wheels) > 1:
                    session.reporter.warn(f"{wheel.name}: {exc.one_line()}")
                continue
            if not fuse:
                final = publish(results[-1].path, outdir)[0]
                results[-1].path = final
                run.items.append(Repaired([wheel], results[-1]))
        if fuse:
            request = repair_request(session, config, None, Path(tmp, "fused"))
            merged = session.pm.hook.fuse_wheels(wheels=[r.path for r in results], request=request)
            if merged is None:
                raise UsageError(
                    "no installed plugin can merge these wheels",
                    hint="--fuse merges thin macOS wheels (x86_64 and arm64) with the delocate plugin",
                )
            merged.bundled = sorted({*merged.bundled, *(lib for r in results for lib in r.bundled)})
            merged.path = publish(merged.path, outdir)[0]
            run.items.append(Repaired(list(wheels), merged))
    return run


def _project(project_dir: Path | None) -> Any:
    from hwb import Project

    root = project_dir or Path.cwd()
    if not (root / "pyproject.toml").is_file():
        if project_dir is not None:
            raise UsageError(
                f"{root} has no pyproject.toml", hint="--project names a project directory"
            )
        return None
    return Project.load(root)
