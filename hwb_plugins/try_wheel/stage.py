"""Trying one build's wheel: every ``try_wheel`` implementation is called with it, and the first
failed outcome is the build's error.

The first fresh environment is made ahead, in a thread, while the backend builds the wheel,
where that takes long (a container) and a check will want one (:func:`prefetch`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from hwb import (
    BuildEnv,
    CheckerRequest,
    EnvRequest,
    IsolationUnavailable,
    WheelTestFailed,
    WheelTestOutcome,
    WheelTestRequest,
    extensions,
)
from hwb.wheelfile import identifier

#: The longest test output kept in an error (the build's log holds all of it).
TAIL_LINES = 40

EnvMaker = Callable[[], AbstractContextManager[BuildEnv]]


@contextlib.contextmanager
def checker(request: CheckerRequest) -> Iterator[Callable[[Path], list[WheelTestOutcome]]]:
    """The ``wheel_checker`` of one build: the first fresh environment started ahead (and
    removed when the build ends), then :func:`try_wheel` for the repaired wheel."""
    prefetched = prefetch(request)
    try:
        yield lambda wheel: try_wheel(request, wheel, prefetched)
    finally:
        if prefetched is not None:
            prefetched.close()


def try_wheel(
    checked: CheckerRequest, wheel: Path, prefetched: Prefetched | None = None
) -> list[WheelTestOutcome]:
    """Call ``try_wheel`` and return what every check found; raise :class:`WheelTestFailed`
    (nothing is published) for the first that failed. The build's ``env_request`` is made
    again with ``purpose="test"`` and the work directory for each fresh environment."""
    reporter = checked.reporter
    checked.work_dir.mkdir(parents=True, exist_ok=True)
    request = WheelTestRequest(
        config=checked.config,
        reporter=reporter,
        project=checked.project,
        python=checked.python,
        isolation=checked.isolation,
        identifier=identifier(checked.python.abi_tag, wheel),
        work_dir=checked.work_dir,
        fresh_env=_first_prefetched(prefetched, _env_maker(checked)),
        target=checked.target,
    )
    started = time.monotonic()
    found = checked.pm.hook.try_wheel(wheel=wheel, request=request)
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


def _env_maker(checked: CheckerRequest) -> EnvMaker:
    built, isolation = checked.env_request, checked.isolation

    def fresh_env() -> AbstractContextManager[BuildEnv]:
        request = EnvRequest(
            python=built.python,
            project=built.project,
            config=built.config,
            reporter=built.reporter,
            work_dir=checked.work_dir,
            extra_env=built.extra_env,
            purpose="test",
            scope=built.scope,
        )
        manager = checked.pm.hook.create_env(isolation=isolation, request=request)
        if manager is None:
            raise IsolationUnavailable(
                f"no plugin created a test environment for isolation {isolation!r}"
            )
        return manager  # type: ignore[no-any-return]

    return fresh_env


def _first_prefetched(prefetched: Prefetched | None, make: EnvMaker) -> EnvMaker:
    def fresh_env() -> AbstractContextManager[BuildEnv]:
        if prefetched is not None and not prefetched.taken:
            return prefetched.take()
        return make()

    return fresh_env


def prefetch(checked: CheckerRequest) -> Prefetched | None:
    """Start making the first fresh environment while the wheel is being built, where that
    takes long (a container: a few tenths of a second) and a check will want one (the project
    has extension modules: the import check, at least, tries its platform wheel). ``None``
    otherwise."""
    if not extensions.of(checked.project).detected:
        return None
    info = checked.pm.isolations().get(checked.isolation)
    if info is None or not info.capabilities.container:
        return None
    checked.work_dir.mkdir(parents=True, exist_ok=True)
    return Prefetched(_env_maker(checked))


class Prefetched:
    """A fresh environment made in a thread of its own, which also removes it: the first
    ``fresh_env()`` gets it, and :meth:`close` (always called by the pipeline) has it removed,
    used or not. The thread lives as long as the environment, since what it started may be
    tied to it (a podman service dies with the thread that started it)."""

    def __init__(self, make: EnvMaker) -> None:
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
