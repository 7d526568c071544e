"""The stage between repair and publishing: every ``try_wheel`` implementation tries the wheel,
and one failure stops it from being published.

The core runs no test itself; it makes the request (with a way to make a fresh environment of
the build's isolation), collects the outcomes and turns a failed one into the build's error.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from hwb_core.config import Config
from hwb_core.errors import IsolationUnavailable, WheelTestFailed
from hwb_core.interfaces import (
    BuildEnv,
    EnvRequest,
    PythonInfo,
    Reporter,
    WheelTestOutcome,
    WheelTestRequest,
)
from hwb_core.plugins import PluginManager
from hwb_core.project import Project
from hwb_core.target import Target
from hwb_core.wheelfile import identifier

#: The longest test output kept in an error (the build's log holds all of it).
TAIL_LINES = 40


def try_wheel(
    pm: PluginManager,
    wheel: Path,
    *,
    config: Config,
    reporter: Reporter,
    project: Project,
    python: PythonInfo,
    isolation: str,
    env_request: EnvRequest,
    work_dir: Path,
    target: Target | None,
    prefetched: Prefetched | None = None,
) -> list[WheelTestOutcome]:
    """Call ``try_wheel`` and return what every check found; raise :class:`WheelTestFailed`
    (nothing is published) for the first that failed. ``env_request`` is the build's, made
    again with ``purpose="test"`` and ``work_dir`` for each fresh environment."""
    if not config.get("test.enabled"):
        return []
    work_dir.mkdir(parents=True, exist_ok=True)
    request = WheelTestRequest(
        config=config,
        reporter=reporter,
        project=project,
        python=python,
        isolation=isolation,
        identifier=identifier(python.abi_tag, wheel),
        work_dir=work_dir,
        fresh_env=_first_prefetched(prefetched, _env_maker(pm, isolation, env_request, work_dir)),
        target=target,
    )
    started = time.monotonic()
    found = pm.hook.try_wheel(wheel=wheel, request=request)
    outcomes = [o for o in found if o is not None]
    for outcome in outcomes:
        if outcome.skipped:
            reporter.info(f"{outcome.name} skipped: {outcome.skipped}")
        elif outcome.passed:
            reporter.step(f"{outcome.name} passed ({outcome.duration_s:.1f}s)")
    failed = [o for o in outcomes if not o.passed]
    if failed:
        first = failed[0]
        raise WheelTestFailed(
            first.error or f"{first.name} failed",
            hint="nothing was published; fix it, or publish untried with --no-test",
            details=_tail(first.output),
        )
    reporter.debug(f"tried {wheel.name} in {time.monotonic() - started:.2f}s")
    return outcomes


def _env_maker(
    pm: PluginManager, isolation: str, env_request: EnvRequest, work_dir: Path
) -> Callable[[], AbstractContextManager[BuildEnv]]:
    def fresh_env() -> AbstractContextManager[BuildEnv]:
        request = EnvRequest(
            python=env_request.python,
            project=env_request.project,
            config=env_request.config,
            reporter=env_request.reporter,
            work_dir=work_dir,
            extra_env=env_request.extra_env,
            purpose="test",
        )
        manager = pm.hook.create_env(isolation=isolation, request=request)
        if manager is None:
            raise IsolationUnavailable(
                f"no plugin created a test environment for isolation {isolation!r}"
            )
        return manager  # type: ignore[no-any-return]

    return fresh_env


def _first_prefetched(
    prefetched: Prefetched | None, make: Callable[[], AbstractContextManager[BuildEnv]]
) -> Callable[[], AbstractContextManager[BuildEnv]]:
    def fresh_env() -> AbstractContextManager[BuildEnv]:
        if prefetched is not None and not prefetched.taken:
            return prefetched.take()
        return make()

    return fresh_env


def prefetch(
    pm: PluginManager,
    config: Config,
    project: Project,
    isolation: str,
    env_request: EnvRequest,
    work_dir: Path,
) -> Prefetched | None:
    """Start making the first fresh environment while the wheel is being built, where that
    takes long (a container: a few tenths of a second) and a check will want one (the project
    has extension modules: the import check, at least, tries its platform wheel). ``None``
    otherwise."""
    if not config.get("test.enabled") or not project.extensions.detected:
        return None
    info = pm.isolations().get(isolation)
    if info is None or not info.capabilities.container:
        return None
    work_dir.mkdir(parents=True, exist_ok=True)
    return Prefetched(_env_maker(pm, isolation, env_request, work_dir))


class Prefetched:
    """A fresh environment entered in a thread of its own; the first ``fresh_env()`` gets it,
    and :meth:`close` (always called by the pipeline) removes it, used or not."""

    def __init__(self, make: Callable[[], AbstractContextManager[BuildEnv]]) -> None:
        self._make = make
        self._manager: AbstractContextManager[BuildEnv] | None = None
        self._env: BuildEnv | None = None
        self._error: BaseException | None = None
        self.taken = False
        self._thread = threading.Thread(target=self._enter, daemon=True, name="hwb-test-env")
        self._thread.start()

    def _enter(self) -> None:
        try:
            manager = self._make()
            self._env = manager.__enter__()
            self._manager = manager
        except BaseException as exc:  # handed to whoever takes it
            self._error = exc

    @contextlib.contextmanager
    def take(self) -> Iterator[BuildEnv]:
        self.taken = True
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._env is not None
        try:
            yield self._env
        finally:
            self._leave()

    def _leave(self) -> None:
        manager, self._manager = self._manager, None
        if manager is not None:
            manager.__exit__(None, None, None)

    def close(self) -> None:
        self._thread.join()
        self._leave()


def _tail(output: str) -> str | None:
    lines = output.rstrip().splitlines()
    if not lines:
        return None
    return "\n".join(lines[-TAIL_LINES:])
