"""Plugin ``try-wheel``: the stage that tries each repaired wheel before it is published.

It declares the ``try_wheel`` hook (:mod:`hwb_plugins.try_wheel.hookspecs`) and answers the
core's ``wheel_checker``: every ``try_wheel`` implementation (the ``test`` plugin's project tests
and import check, organizations' checks) gets the wheel and a way to make a fresh environment
of the isolation it was built in; one failed check and nothing is published. Blocking this
plugin publishes wheels untried, as ``--no-test`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from hwb import CheckerRequest, WheelTestOutcome, hookimpl


@hookimpl
def add_hookspecs(pm: Any) -> None:
    from hwb_plugins.try_wheel import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl
def wheel_checker(
    request: CheckerRequest,
) -> AbstractContextManager[Callable[[Path], Sequence[WheelTestOutcome]]]:
    from hwb_plugins.try_wheel.stage import checker

    return checker(request)
