"""Running part of a matrix: ``--only ID[,ID...]`` and ``--shard K/N``.

A slice is taken from the whole plan (the same python x platform x arch, less the same
excludes, as a whole run), before anything runs, so that the slices of one matrix made on
different machines hold the same jobs: shard K of N holds the jobs at positions K-1, K-1+N,
K-1+2N, ... of the plan, and the union of the N shards is the whole matrix, each job once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hwb import UsageError
from hwb_plugins.matrix.jobs import Job


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"2/4"`` -> ``(2, 4)``; a one-line usage error for anything else."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise UsageError(
            f"--shard {text!r} is not K/N with 1 <= K <= N",
            hint="write the slice and the number of slices: --shard 1/4",
        )
    return int(match.group(1)), int(match.group(2))


def select(jobs: Sequence[Job], only: Sequence[str], shard: tuple[int, int] | None) -> list[Job]:
    """The jobs ``--only`` and ``--shard`` leave (both: the shard of the jobs named)."""
    chosen = list(jobs)
    if only:
        known = {job.id for job in jobs}
        unknown = [name for name in only if name not in known]
        if unknown:
            raise UsageError(
                f"--only names {'a job' if len(unknown) == 1 else 'jobs'} not in this matrix: "
                + ", ".join(unknown),
                hint="`hwb matrix --list` prints the identifiers: " + ", ".join(j.id for j in jobs),
            )
        wanted = set(only)
        chosen = [job for job in chosen if job.id in wanted]
    if shard is not None:
        index, count = shard
        chosen = chosen[index - 1 :: count]
    return chosen
