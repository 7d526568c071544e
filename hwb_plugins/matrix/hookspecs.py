"""The hook of the ``matrix`` plugin, added with ``add_hookspecs``: the jobs of a run, once it
is over. Implement it with ``@hookimpl(optionalhook=True)``, so that blocking ``matrix`` leaves
the implementation idle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hwb import Config, hookspec


@hookspec
def matrix_jobs_done(
    command: str, jobs: Sequence[Mapping[str, Any]], config: Config, environ: Mapping[str, str]
) -> None:
    """See the jobs of a matrix once they are over (the ``cilog`` plugin writes GitHub's job
    summary from them).

    **Called** by ``hwb matrix`` once its jobs have run (``command`` ``"matrix"``; not for
    ``--list`` or ``--emit``), before the exit code is decided, and by ``hwb collect`` once the
    reports are merged (``"collect"``), with each job's record as ``--report`` writes it (``id``,
    ``status``, ``wheel``, ``size``, ``duration_s``, ``test``, ``repair``, ``error``, ``log``),
    the command's configuration (``hwb collect``'s: the environment's and its command line's)
    and its environment variables.

    **Returns** nothing; an exception is an error of the command.

    .. versionadded:: 0.4
    """
