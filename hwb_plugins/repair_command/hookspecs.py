"""The hook of the ``repair-command`` plugin, added with ``add_hookspecs``: merging thin wheels
for ``hwb repair --fuse``. Implement it with ``@hookimpl(optionalhook=True)``, so that blocking
``repair-command`` leaves the implementation idle."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hwb import hookspec

if TYPE_CHECKING:
    from hwb import RepairRequest, RepairResult


@hookspec(firstresult=True)
def fuse_wheels(wheels: Sequence[Path], request: RepairRequest) -> RepairResult | None:
    """Merge wheels of one build made for different architectures into one wheel (two thin
    macOS wheels, ``x86_64`` and ``arm64``, into one ``universal2`` wheel).

    **Called** by ``hwb repair --fuse`` with the wheels after each was repaired.

    **Returns** a :class:`RepairResult` whose ``path`` is the merged wheel, written into
    ``request.output_dir``, or ``None`` when the wheels are not this plugin's to merge. Wheels
    that cannot be merged (different projects, versions or Python tags, the same architecture
    twice) raise :class:`hwb.RepairError`.

    **Combining**: the first non-``None`` result wins. When none takes the wheels, ``hwb repair
    --fuse`` fails and says so.

    .. versionadded:: 0.1
    .. versionchanged:: 0.4 declared by the ``repair-command`` plugin (was the core's).
    """
