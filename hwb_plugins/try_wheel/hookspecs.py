"""The hook of the ``try-wheel`` plugin, added with ``add_hookspecs``: checking a wheel before
it is published. Implement it with ``@hookimpl(optionalhook=True)``, so that blocking
``try-wheel`` (wheels published untried) leaves the implementation idle."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hwb import hookspec

if TYPE_CHECKING:
    from hwb import WheelTestOutcome, WheelTestRequest


@hookspec
def try_wheel(wheel: Path, request: WheelTestRequest) -> WheelTestOutcome | None:
    """Try a built, repaired wheel before it is published: install it somewhere fresh and run
    tests, or check it in any other way (a licence scan, a size budget, a smoke test).

    **Called** once per build, after :func:`repair_wheel` and before the wheel reaches the
    output directory, with the wheel to publish (in a private directory). Not called when
    ``[tool.hwb.test] enabled`` is false (``--no-test``). ``request.fresh_env()`` makes a new
    environment of the isolation the wheel was built in (a new container of the same image,
    without network; in ``hwb matrix``, a new virtual environment in a new directory of the
    run's container for the image), removed when its ``with`` block ends; install the wheel
    there with ``env.install_wheel`` and run commands from a directory under ``request.work_dir``.

    **Returns** a :class:`~hwb.WheelTestOutcome` (``passed``, the command, its
    output's tail and a one-line ``error``; or ``skipped`` with the reason), or ``None`` when
    there is nothing for this plugin to check.

    **Combining**: every implementation is called and every outcome kept (``--json``'s
    ``test.checks``). When any outcome has ``passed`` false the build fails with its
    ``error`` and output, exit code 1, and nothing is published. An exception raised is an
    error of the build, as from any hook.

    .. versionadded:: 0.2
    .. versionchanged:: 0.4 declared by the ``try-wheel`` plugin (was the core's); not called
       either when that plugin is blocked.
    """
