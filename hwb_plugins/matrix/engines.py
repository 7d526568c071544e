"""Container jobs over several engines: a strategy that declares ``hosts_key`` (a table of
engines by architecture, ``[tool.hwb.isolation.docker.hosts]``) gets each Linux job of a listed
architecture sent to one of that architecture's engines, natively (no qemu). Every engine is
asked once, before the run; one that does not answer is reported and gets no job. At run time a
job takes the engine of its list with the fewest running jobs (:class:`Dispatcher`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from hwb import Config, IsolationInfo, host
from hwb_plugins.matrix.jobs import FAILED, SKIPPED, WAITING, Job


def route(
    jobs: Sequence[Job],
    strategies: Sequence[IsolationInfo],
    config: Config,
    asked_isolation: str,
    notes: list[str],
) -> None:
    """Give each Linux job that a strategy's engines can build its candidate engines."""
    answers: dict[tuple[str, str], str | None] = {}
    for job in jobs:
        if job.platform != "linux" or job.status == FAILED:
            continue
        found = _engines_for(job, strategies, config, asked_isolation)
        if found is None:
            continue
        info, urls = found
        caps = info.capabilities
        assert caps.host_key is not None  # _engines_for only returns strategies that declare it
        usable = []
        for url in urls:
            if (info.name, url) not in answers:
                problem = info.why_unavailable(config.with_overrides({caps.host_key: url}))
                answers[info.name, url] = problem
                if problem:
                    notes.append(
                        f"{info.name} engine {url} ({job.arch}) cannot be used: {problem}; its "
                        "jobs go to the others"
                    )
            if answers[info.name, url] is None:
                usable.append(url)
        if not usable:
            job.status, job.error = FAILED, f"no {info.name} engine for {job.arch} answered"
            continue
        if job.status == SKIPPED and not job.isolation:  # an architecture nothing here emulates
            job.status, job.error = WAITING, None
        job.isolation = info.name
        job.engines = usable
        job.engine_key = caps.host_key
        # Natively on that engine: the image of the job's architecture, no emulation.
        platform = host.oci_platform(job.arch)
        if caps.target_key and platform:
            job.overrides[caps.target_key] = platform


def _engines_for(
    job: Job, strategies: Sequence[IsolationInfo], config: Config, asked: str
) -> tuple[IsolationInfo, list[str]] | None:
    for info in strategies:
        caps = info.capabilities
        if not caps.hosts_key or not caps.host_key or caps.hosts_key not in config.schema:
            continue
        if asked != "auto" and info.name != asked:
            continue
        if job.isolation and job.isolation != info.name:
            continue
        listed: Any = (config.get(caps.hosts_key) or {}).get(job.arch)
        urls = [listed] if isinstance(listed, str) else [str(u) for u in listed or ()]
        if urls:
            return info, urls
    return None


class Dispatcher:
    """Hands each starting job the least busy of its engines."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}

    def take(self, job: Job) -> None:
        if not job.engines or not job.engine_key:
            return
        with self._lock:
            engine = min(
                job.engines, key=lambda url: (self._running.get(url, 0), job.engines.index(url))
            )
            self._running[engine] = self._running.get(engine, 0) + 1
        job.engine = engine
        job.overrides[job.engine_key] = engine

    def give_back(self, job: Job) -> None:
        if job.engine is None:
            return
        with self._lock:
            self._running[job.engine] = max(0, self._running.get(job.engine, 0) - 1)
