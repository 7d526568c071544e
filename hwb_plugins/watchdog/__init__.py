"""The time limit's backstop: ``--timeout`` holds for every isolation, also for one that runs
its commands its own way (``subprocess.run([...])``) instead of through :mod:`hwb.process`.

What runs a command through :mod:`hwb.process` (or the built-in container isolations) stops it
at the limit itself, with a message that names it. For anything else, a timer armed as the
build's environment is made fires :data:`GRACE` seconds after the limit: if the build still
runs then, the processes its thread started are sent SIGTERM with all they started (a
``docker run`` command passes it on to its container), and SIGKILL
:data:`~hwb_plugins.watchdog.processes.KILL_AFTER` seconds later; whatever the build then
returns or raises, it ends as :class:`hwb.BuildTimeout` (exit code 124), once the isolation's
own clean-up has run. Those already running once the environment was made are the
environment's own (a service its clean-up needs) and are left to it, unless the time ran out
while it was being made. Which processes a thread started: :mod:`.processes`.

On the ``create_env`` hook, as a wrapper: the timer lives as long as the environment and is
stopped, its thread ended, before the environment is removed. (Not on ``build``: the core
sets the limit inside every wrapper of ``build``; ``create_env`` is called under it, in the
build's thread, for every isolation.) Blocked (``-p no:watchdog``), the limit holds only for
what asks :mod:`hwb.deadline`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Generator, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from hwb import BuildTimeout, deadline, hookimpl

if TYPE_CHECKING:
    from hwb import BuildEnv, EnvRequest

#: Seconds past the limit before the backstop steps in, so that what stops at the limit
#: itself (:func:`hwb.process.run`, the container isolations) does so first, in its own words.
GRACE = 3.0

_here = threading.local()


@hookimpl(wrapper=True)
def create_env(
    isolation: str, request: EnvRequest
) -> Generator[
    None, AbstractContextManager[BuildEnv] | None, AbstractContextManager[BuildEnv] | None
]:
    manager = yield
    left = deadline.remaining()
    if manager is None or left is None or getattr(_here, "watch", None) is not None:
        return manager  # no limit, or an environment made inside a watched one (a test's)
    return _watched(manager, isolation, left + GRACE)


@contextlib.contextmanager
def _watched(
    manager: AbstractContextManager[BuildEnv], isolation: str, seconds: float
) -> Iterator[BuildEnv]:
    watch = Watch(seconds)
    _here.watch = watch
    try:
        with contextlib.ExitStack() as stack:
            stack.callback(watch.end)
            env = stack.enter_context(manager)
            watch.made()
            stack.callback(watch.end)  # before the environment's own clean-up
            yield env
    except Exception as exc:
        if watch.fired and not _timed_out(exc):
            raise watch.error(isolation) from exc
        raise
    finally:
        _here.watch = None
    if watch.fired:
        raise watch.error(isolation)


class Watch:
    """A timer that stops the processes the calling thread started, unless :meth:`end`
    comes first. Those still running once the environment is :meth:`made` are its own (a
    service its clean-up needs) and are left to it, unless the time runs out before."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self.stopped: list[str] = []
        self._tid = threading.get_native_id()
        self._main = threading.current_thread() is threading.main_thread()
        self._own: set[tuple[int, str]] = set()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.name = "hwb-watchdog"
        self._timer.daemon = True
        self._timer.start()

    def made(self) -> None:
        """The environment is made: what its making left running is the environment's."""
        from hwb_plugins.watchdog import processes

        self._own = {(p.pid, p.start) for p in processes.started_by(self._tid, self._main)}

    def _fire(self) -> None:
        from hwb_plugins.watchdog import processes

        self.fired = True
        try:
            found = processes.started_by(self._tid, self._main)
            roots = [proc for proc in found if (proc.pid, proc.start) not in self._own]
            self.stopped = sorted({proc.name for proc in roots})
            processes.stop(roots)
        except Exception:  # pragma: no cover - a backstop: the build still ends out of time
            pass

    def end(self) -> None:
        """Disarm the timer; when it fired, wait until it has stopped what it found."""
        self._timer.cancel()
        self._timer.join()

    def error(self, isolation: str) -> Exception:
        """The :class:`hwb.BuildTimeout` naming what was stopped."""
        what = f"isolation {isolation!r}"
        if self.stopped:
            what = f"{', '.join(self.stopped)}, run by {what},"
        return deadline.expired(what)


def _timed_out(exc: BaseException) -> bool:
    """Whether ``exc`` is the time limit already, or was caused by it (in its own words)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BuildTimeout):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
