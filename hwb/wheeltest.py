"""The types of the ``try_wheel`` hook (the ``try-wheel`` plugin's): what a check of a built
wheel receives (:class:`WheelTestRequest`) and what it found (:class:`WheelTestOutcome`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from hwb_core.config import Config
from hwb_core.interfaces import BuildEnv, PythonInfo, Reporter
from hwb_core.project import Project
from hwb_core.target import Target


@dataclasses.dataclass
class WheelTestRequest:
    """What a ``try_wheel`` implementation receives besides the wheel."""

    config: Config
    reporter: Reporter
    project: Project
    """The project as it was built (its ``root`` is what ``{project}`` means in a command)."""
    python: PythonInfo
    """The interpreter the wheel was built with (a container's own, for a container build)."""
    isolation: str
    """The strategy the wheel was built in; :attr:`fresh_env` makes another of the same."""
    identifier: str
    """The build's identifier, ``cp312-manylinux_x86_64`` (:func:`hwb.wheelfile.identifier`),
    what ``skip`` patterns match."""
    work_dir: Path
    """An empty private directory, removed after the build; environments made with
    :attr:`fresh_env` see it (a container mounts it)."""
    fresh_env: Callable[[], AbstractContextManager[BuildEnv]]
    """``with request.fresh_env() as env:`` a new environment of the same isolation and
    interpreter, with nothing installed and no network beyond what the build had (a fresh
    container of the same image), removed on exit. Made with ``purpose="test"``."""
    target: Target | None = None
    """What the wheel was built for."""


@dataclasses.dataclass
class WheelTestOutcome:
    """What one check of a built wheel found (``try_wheel``)."""

    name: str
    """The check's name, shown to the user: ``"test command"``, ``"import check"``."""
    passed: bool
    command: str = ""
    """What ran, as the user would type it (empty for a check that runs no command)."""
    duration_s: float = 0.0
    output: str = ""
    """The tail of its output (the whole of it is in the build's log)."""
    error: str = ""
    """One line saying what failed, when it did (``test command failed (exit 1): pytest``)."""
    skipped: str = ""
    """Why the check did not run, when it did not (``passed`` is then True)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "command": self.command or None,
            "passed": self.passed,
            "skipped": self.skipped or None,
            "duration_s": round(self.duration_s, 3),
            "error": self.error or None,
        }
