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
            scope=env_request.scope,
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
    """A fresh environment made in a thread of its own, which also removes it: the first
    ``fresh_env()`` gets it, and :meth:`close` (always called by the pipeline) has it removed,
    used or not. The thread lives as long as the environment, since what it started may be
    tied to it (a podman service dies with the thread that started it)."""

    def __init__(self, make: Callable[[], AbstractContextManager[BuildEnv]]) -> None:
        self._make = make
        self._env: BuildEnv | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._done = threading.Event()
        self.taken = False
        self._thread = threading.Thread(target=self._hold, daemon=True, name="hwb-test-env")
        self._thread.start()

    def _hold(self) -> None:
        try:
            with self._make() as env:
                self._env = env
                self._ready.set()
                self._done.wait()
        except BaseException as exc:  # handed to whoever takes it
            self._error = exc
        finally:
            self._ready.set()

    @contextlib.contextmanager
    def take(self) -> Iterator[BuildEnv]:
        self.taken = True
        self._ready.wait()
        if self._env is None:
            self.close()
            raise self._error or RuntimeError("the test environment was not made")
        try:
            yield self._env
        finally:
            self.close()

    def close(self) -> None:
        self._done.set()
        self._thread.join()


def _tail(output: str) -> str | None:
    lines = output.rstrip().splitlines()
    if not lines:
        return None
    return "\n".join(lines[-TAIL_LINES:])
