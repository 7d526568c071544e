"""``hwb matrix``: many builds through the one pipeline, in a pool of worker threads.

plan (main thread)  options + project + config -> jobs: python x platform x arch, less the
                    excludes (:mod:`.plan`). Each job is ready to run, or already skipped
                    (another OS, an architecture nothing here emulates, requires-python) or
                    failed (an interpreter that cannot be found), with the reason. A job of
                    another architecture goes to the strategy that declares it emulates it
                    (:mod:`.routing`).
run (worker pool)   per job: its own reporter writing its own log file, its own copy of the
                    source, then :func:`hwb_core.pipeline.build`, the same call ``hwb build``
                    makes (:mod:`.runner`).
stop                Ctrl-C or ``--fail-fast``: no new job starts, running jobs are told to
                    stop (their reporter raises, their child processes get SIGINT), and the
                    run waits until every job has removed its environment.

A plugin like any other: the ``hwb matrix`` command comes from :func:`add_commands`, its
settings from :func:`config_schema`. Only the hooks are imported with hwb; planning and
running are imported when the command runs.
"""

from __future__ import annotations

from typing import Any

from hwb import CommandLine, ConfigKey, hookimpl


@hookimpl
def add_hookspecs(pm: Any) -> None:
    from hwb_plugins.matrix import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    from hwb_plugins.matrix.settings import MATRIX_KEYS

    return dict(MATRIX_KEYS)


@hookimpl
def add_commands(cli: CommandLine) -> None:
    from hwb_plugins.matrix import collect
    from hwb_plugins.matrix.cli import register

    register(cli)
    collect.register(cli)
