"""What outlives one build: a command that runs many builds (``hwb matrix``) opens a
:class:`Scope` for all of them, and an isolation may keep what it made for one build (a started
container) to serve the next ones, instead of removing it when the build's environment closes.
``hwb build`` opens none: everything is made for its one build and removed after it.

A kept resource is entered, and later exited, by a thread of its own that lives exactly as long
as the resource: what a thread starts may die with it (a podman service does), so neither the
build that asked first nor the thread that closes the scope may own it.

A build that runs something out of reach of a signal to hwb's children (a command in a
container) registers how to stop it (:meth:`Scope.on_stop`); the command stops the session
(:meth:`Scope.stop`) on Ctrl-C or ``--fail-fast``.

The scope also holds its builds' work directories, in one directory of its own (:attr:`root`),
so that a kept container sees every build's files through the mounts it was created with.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Scope:
    """Resources kept for a session of builds, released by :meth:`close` (the session's end:
    success, failure or Ctrl-C), newest first."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hwb-session-"))
        """Where :meth:`work_dir` makes the builds' work directories; removed by :meth:`close`."""
        self._lock = threading.Lock()
        self._held: dict[Hashable, _Held[Any]] = {}
        self._closed = False
        self._stopped = False
        self._on_stop: dict[int, Callable[[], None]] = {}
        self._handles = itertools.count()

    def work_dir(self) -> Path:
        """A new private work directory for one build, inside :attr:`root`."""
        return Path(tempfile.mkdtemp(prefix="hwb-build-", dir=self.root))

    def keep(self, key: Hashable, make: Callable[[], AbstractContextManager[T]]) -> T:
        """What is kept under ``key``: the value of entering ``make()``, done once (callers of
        the same key meanwhile wait for it) and exited when the scope closes or :meth:`drop`
        lets it go. When making it fails, each waiting caller gets the error and nothing is
        kept: the next call tries again."""
        while True:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the session is over: nothing more can be kept")
                held: _Held[T] | None = self._held.get(key)
                if held is None:
                    held = _Held(make, name=f"hwb-keep-{len(self._held)}")
                    self._held[key] = held
            try:
                return held.value()
            except _Released:
                continue  # dropped meanwhile: make a new one
            except BaseException:
                self._forget(key, held)
                raise

    def drop(self, key: Hashable, value: object) -> None:
        """Release ``value`` now if it is still what ``key`` keeps (it broke: a container that
        stopped), so that the next :meth:`keep` makes a new one."""
        with self._lock:
            held = self._held.get(key)
            if held is None or held.current is not value:
                return
        self._forget(key, held)

    def _forget(self, key: Hashable, held: _Held[Any]) -> None:
        with self._lock:
            if self._held.get(key) is held:
                del self._held[key]
        held.release()

    def on_stop(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Have ``callback`` called when the session is stopped (:meth:`stop`), or now if it
        has been; returns what forgets it (an environment that ended). What a build runs out
        of hwb's reach (in a container) is stopped so: a signal to hwb's children cannot."""
        with self._lock:
            stopped = self._stopped
            handle = next(self._handles)
            if not stopped:
                self._on_stop[handle] = callback
        if stopped:
            _quietly(callback)

        def forget() -> None:
            with self._lock:
                self._on_stop.pop(handle, None)

        return forget

    def stop(self) -> None:
        """The session is stopping (Ctrl-C, ``--fail-fast``): call every :meth:`on_stop`
        callback, once; their errors are ignored."""
        with self._lock:
            self._stopped = True
            callbacks = list(self._on_stop.values())
            self._on_stop.clear()
        for callback in callbacks:
            _quietly(callback)

    def close(self) -> None:
        """Release everything kept, newest first, then remove :attr:`root`."""
        with self._lock:
            self._closed = True
            held = list(self._held.values())
            self._held.clear()
        for item in reversed(held):
            item.release()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Scope:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _quietly(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:
        pass


class _Released(Exception):
    """What was kept has been let go of (:meth:`Scope.drop`) before it could be handed out."""


class _Held(Generic[T]):
    """One kept resource and the thread that entered it and will exit it."""

    def __init__(self, make: Callable[[], AbstractContextManager[T]], name: str) -> None:
        self._make = make
        self.current: T | None = None
        self._made = False
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True, name=name)
        self._thread.start()

    def _hold(self) -> None:
        try:
            with self._make() as value:
                self.current = value
                self._made = True
                self._ready.set()
                self._done.wait()
        except BaseException as exc:  # handed to the callers of value()
            self._error = exc
        finally:
            self._ready.set()

    def value(self) -> T:
        self._ready.wait()
        if self._error is not None:
            raise self._error
        if not self._made or self._done.is_set():
            raise _Released
        return self.current  # type: ignore[return-value]

    def release(self) -> None:
        """Have the thread exit the resource, and wait until it has (a second Ctrl-C while
        waiting is let through)."""
        self._done.set()
        try:
            self._thread.join()
        except KeyboardInterrupt:
            self._thread.join()
            raise
