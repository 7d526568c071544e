"""Repairer ``auditwheel``: Linux platform wheels become manylinux or musllinux wheels.

The hook only decides whether a wheel is this plugin's; :mod:`.repair` drives auditwheel as a
command (``python -m auditwheel repair``), on the host after venv and none builds, and inside
the build environment (a container) when the environment does not run on the host. auditwheel
is imported by nobody here: not at start-up, not at repair time. See ``docs/repair.md``.
"""

from __future__ import annotations

from pathlib import Path

from hwb import BuildEnv, RepairRequest, RepairResult, hookimpl

NAME = "auditwheel"


@hookimpl
def repair_wheel(wheel: Path, env: BuildEnv | None, request: RepairRequest) -> RepairResult | None:
    from hwb import wheelfile

    tags = wheelfile.platform_tags(wheel)
    if tags == ["any"]:
        return None  # a pure wheel: nothing to repair (the core says so, naming no repairer)
    if not all(tag.startswith(("linux_", "manylinux", "musllinux")) for tag in tags):
        return None  # macOS, Windows, ...: another repairer's
    portable = [tag for tag in tags if not tag.startswith("linux_")]
    if portable:
        return RepairResult(
            path=wheel,
            repaired=False,
            repairer=NAME,
            policy=most_compatible(portable),
            reason=f"already {'.'.join(portable)}",
        )
    from hwb_plugins.auditwheel.repair import repair

    return repair(wheel, env, request)


def most_compatible(tags: list[str]) -> str:
    """Of a wheel's manylinux/musllinux tags, the PEP 600 one of the oldest libc
    (``manylinux_2_17_x86_64`` rather than its alias ``manylinux2014_x86_64``)."""
    import re

    def key(tag: str) -> tuple[int, int, int, str]:
        match = re.match(r"(?:many|musl)linux_(\d+)_(\d+)_", tag)
        if match:
            return (0, int(match.group(1)), int(match.group(2)), tag)
        return (1, 0, 0, tag)  # legacy aliases (manylinux2014) only when nothing else

    return min(tags, key=key)
