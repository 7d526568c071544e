"""The same inputs, the same bytes: a ``SOURCE_DATE_EPOCH`` for each build (:mod:`.epoch`), with
compiler flags that keep its temporary directories out of what compilers write, and
``--check-reproducible``, which builds a second time in fresh environments and compares the two
wheels member by member (:mod:`.compare`). On the ``backend_environment``,
``fresh_environments`` and ``build`` hooks; blocked (``-p no:reproducible``), builds get no
``SOURCE_DATE_EPOCH`` from hwb and ``--check-reproducible`` is no option."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hwb import CliOption, ConfigKey, hookimpl

if TYPE_CHECKING:
    from hwb import BuildEnv, BuildResult, Config, Reporter
    from hwb.target import Target

ENABLED, EPOCH, CHECK = (
    "reproducible.enabled",
    "reproducible.source-date-epoch",
    "reproducible.check",
)


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        ENABLED: ConfigKey(
            "bool",
            True,
            "Set SOURCE_DATE_EPOCH for the backend and the repair (from the sdist, the last "
            "commit or source-date-epoch) and normalise what hwb writes into wheels.",
        ),
        EPOCH: ConfigKey(
            "int",
            None,
            "SOURCE_DATE_EPOCH (seconds since 1970) when the source is neither an sdist nor a "
            "git checkout.",
            env="HWB_SOURCE_DATE_EPOCH",
        ),
        CHECK: ConfigKey(
            "bool",
            False,
            "Build twice, in separate fresh environments, and report the wheel's members that "
            "differ (--check-reproducible).",
        ),
    }


@hookimpl
def cli_options(command: str) -> list[CliOption] | None:
    if command != "build":
        return None
    return [
        CliOption(
            ("--check-reproducible",),
            CHECK,
            "Build a second time in fresh environments and report the members that "
            "differ (exit code 1 when any does).",
            is_flag=True,
        )
    ]


@hookimpl
def backend_environment(
    env: BuildEnv,
    source: Path,
    config: Config,
    target: Target,
    work_dir: Path,
    environ: Mapping[str, str],
    reporter: Reporter,
) -> dict[str, str] | None:
    """``SOURCE_DATE_EPOCH``, and on the host the compiler flags mapping the build's new
    temporary directories to fixed names."""
    from hwb_plugins.reproducible.epoch import compiler_flags, source_date_epoch

    epoch, epoch_from = source_date_epoch(source, config, environ)
    if epoch is None:
        reporter.debug(f"no SOURCE_DATE_EPOCH: {epoch_from}")
        return None
    fixed = {"SOURCE_DATE_EPOCH": str(epoch)}
    if env.on_host and target.os in ("linux", "macos"):
        # The source and the environment are in new temporary directories each time.
        paths = {str(env.source_dir): ".", str(work_dir): "/hwb-build"}
        own = env.backend_environment.set if env.backend_environment else {}
        fixed.update(compiler_flags(paths, os.environ, own))
    reporter.debug(f"SOURCE_DATE_EPOCH={epoch} ({epoch_from})")
    return fixed


@hookimpl
def fresh_environments(config: Config) -> bool | None:
    return True if config.get(CHECK) else None


@hookimpl(wrapper=True)
def build(request: Any, session: Any) -> Generator[None, BuildResult, BuildResult]:
    """With ``reproducible.check``, build ``request`` again into a temporary directory, in
    fresh environments and without tests, and compare the wheel with the first build's."""
    result = yield
    if request.rebuild or not result.config or not result.config.get(CHECK):
        return result
    from hwb import build as build_again
    from hwb_plugins.reproducible.compare import compare

    session.reporter.step("building a second time to compare (--check-reproducible)")
    with tempfile.TemporaryDirectory(prefix="hwb-again-") as tmp:
        again = dataclasses.replace(
            request,
            outdir=Path(tmp),
            overrides={**request.overrides, CHECK: False, "test.enabled": False},
            keep_log=False,
            rebuild=True,
        )
        second = build_again(again, session)
        comparison = compare(result.path, second.path, result.source_date_epoch)
    if comparison.identical:
        session.reporter.step(comparison.describe())
    else:
        session.reporter.warn(comparison.describe())
    result.reproducible = comparison
    return result
