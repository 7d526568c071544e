"""What a repairer that drives a command-line tool (auditwheel, delocate, delvewheel) needs
around it: the output directory made, and the one wheel the tool wrote there found.

A repair tool writes its wheel into a directory under a name of its choosing (a new platform
tag): the wheel to publish is the one that was not there before the tool ran, and exactly one.
"""

from __future__ import annotations

from pathlib import Path

from hwb_core.errors import RepairError


class ToolOutput:
    """The output directory of one run of a repair tool. Make it before running the tool;
    :meth:`new_wheel` afterwards."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._before = set(directory.glob("*.whl"))

    def new_wheel(self, tool: str, wheel: Path, output: str) -> Path:
        """The one wheel ``tool`` wrote for ``wheel`` (its input). A tool that reported success
        but wrote none, or several, is a :class:`~hwb_core.errors.RepairError` carrying the
        tool's ``output``."""
        made = sorted(set(self.directory.glob("*.whl")) - self._before)
        if len(made) != 1:
            raise RepairError(
                f"{tool} reported success but wrote {len(made)} wheels for {wheel.name}",
                hint="run again with -v to see its output",
                details=output,
            )
        return made[0]
