"""The session scope (``hwb.scope``): what a long-running command keeps for its builds."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest

from hwb.scope import Scope


class Resource:
    """Records which thread made and released it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.made_by = threading.get_ident()
        self.released_by: int | None = None
        self.released = False


def maker(made: list[Resource], name: str = "r", delay: float = 0.0, fail: bool = False):
    @contextlib.contextmanager
    def make() -> Iterator[Resource]:
        time.sleep(delay)
        if fail:
            raise OSError(f"cannot make {name}")
        resource = Resource(name)
        made.append(resource)
        try:
            yield resource
        finally:
            resource.released_by = threading.get_ident()
            resource.released = True

    return make

def test_concurrent_callers_of_one_key_share_one_resource() -> None:
    made: list[Resource] = []
    got: list[Resource] = []
    with Scope() as scope:
        make = maker(made, delay=0.2)
        threads = [threading.Thread(target=lambda: got.append(scope.keep("k", make))) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(made) == 1
        assert got == made * 4
        assert not made[0].released
    assert made[0].released

def test_a_resource_is_made_and_released_by_a_thread_of_its_own() -> None:
    """Neither the caller nor the thread that closes the scope owns it (a podman service
    started by a thread dies with that thread)."""
    made: list[Resource] = []
    scope = Scope()
    scope.keep("k", maker(made))
    scope.close()
    (resource,) = made
    assert resource.made_by != threading.get_ident()
    assert resource.released_by == resource.made_by

def test_different_keys_keep_different_resources_released_newest_first() -> None:
    made: list[Resource] = []
    order: list[str] = []

    def tracked(name: str):
        @contextlib.contextmanager
        def make() -> Iterator[str]:
            yield name
            order.append(name)

        return make

    with Scope() as scope:
        assert scope.keep("engine", tracked("engine")) == "engine"
        assert scope.keep("container", tracked("container")) == "container"
        assert scope.keep("engine", maker(made)) == "engine"  # kept: make is not called
    assert order == ["container", "engine"]
    assert made == []

def test_a_failure_to_make_is_raised_to_every_waiting_caller_and_nothing_is_kept() -> None:
    made: list[Resource] = []
    errors: list[BaseException] = []
    with Scope() as scope:
        bad = maker(made, delay=0.2, fail=True)

        def call() -> None:
            try:
                scope.keep("k", bad)
            except OSError as exc:
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(errors) == 3
        assert "cannot make r" in str(errors[0])
        # The next caller tries again.
        assert scope.keep("k", maker(made)).name == "r"
    assert len(made) == 1 and made[0].released

def test_drop_releases_a_broken_resource_and_the_next_caller_gets_a_new_one() -> None:
    made: list[Resource] = []
    with Scope() as scope:
        first = scope.keep("k", maker(made))
        scope.drop("k", first)
        assert first.released
        second = scope.keep("k", maker(made))
        assert second is not first
        scope.drop("k", first)  # no longer what the key keeps: nothing happens
        assert not second.released
    assert second.released

def test_work_directories_are_inside_the_root_which_close_removes() -> None:
    scope = Scope()
    one, two = scope.work_dir(), scope.work_dir()
    assert one != two
    assert one.parent == scope.root and two.parent == scope.root
    assert one.name.startswith("hwb-build-")
    (one / "file").write_text("x")
    scope.close()
    assert not scope.root.exists()
    with pytest.raises(RuntimeError, match="session is over"):
        scope.keep("k", maker([]))


def test_stop_calls_what_was_registered_once_and_later_registrations_at_once() -> None:
    calls: list[str] = []
    with Scope() as scope:
        forget_a = scope.on_stop(lambda: calls.append("a"))
        scope.on_stop(lambda: calls.append("b"))
        forget_gone = scope.on_stop(lambda: calls.append("gone"))
        forget_gone()
        scope.on_stop(lambda: 1 / 0)  # an error is ignored: the others still run
        scope.stop()
        scope.stop()
        assert calls == ["a", "b"]
        forget_a()  # harmless after the fact
        scope.on_stop(lambda: calls.append("late"))
        assert calls == ["a", "b", "late"]
