"""The stage between repair and publishing: a plugin's checker (the ``wheel_checker`` hook)
tries the wheel, and one failure stops it from being published.

The core runs no check itself: it asks for the checker before the backend runs (so that it can
get ready meanwhile), hands it the repaired wheel, and keeps what it found.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from hwb_core.interfaces import CheckerRequest, CheckOutcome
from hwb_core.plugins import PluginManager

Checker = Callable[[Path], Sequence[CheckOutcome]]


def stage(pm: PluginManager, **request: Any) -> AbstractContextManager[Checker]:
    """The checker of this build (enter it in the build's stack), from the fields of a
    :class:`CheckerRequest`: no checks at all with ``--no-test`` or when no plugin answers
    ``wheel_checker``."""
    found = None
    if request["config"].get("test.enabled"):
        found = pm.hook.wheel_checker(request=CheckerRequest(pm=pm, **request))
    return found if found is not None else contextlib.nullcontext(_untried)


def _untried(wheel: Path) -> Sequence[CheckOutcome]:
    return []
