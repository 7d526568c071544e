"""Two thin macOS wheels of one build (``x86_64`` and ``arm64``) merged into ``universal2``.

The checks run first, in Python, so that a mistake (two wheels of different versions, the same
architecture twice) is named before any tool runs; then ``delocate-merge`` fuses every binary
with ``lipo`` and computes the new tag.
"""

from __future__ import annotations

from pathlib import Path

from hwb_core import wheelfile
from hwb_core.errors import RepairError
from hwb_core.interfaces import RepairRequest, RepairResult
from hwb_plugins.delocate import NAME
from hwb_plugins.delocate.tools import check_host, last_words, run_delocate, tag_parts

UNIVERSAL2 = ("x86_64", "arm64")


def check_fusable(wheels: list[Path]) -> list[Path]:
    """The wheels ordered ``x86_64`` first; a :class:`RepairError` when they cannot be merged."""
    if len(wheels) != 2:
        raise RepairError(
            f"a universal2 wheel is merged from two thin wheels (x86_64 and arm64), not {len(wheels)}",
            hint="give one macOS wheel per architecture",
        )
    heads = []
    by_arch: dict[str, Path] = {}
    for wheel in wheels:
        stem = wheel.name[: -len(".whl")]
        heads.append(stem.rsplit("-", 1)[0])  # name-version(-build)-python-abi
        tags = wheelfile.platform_tags(wheel)
        archs = {tag_parts(tag)[1] for tag in tags}
        if len(archs) != 1 or not archs <= set(UNIVERSAL2):
            raise RepairError(
                f"{wheel.name} is not a thin x86_64 or arm64 wheel ({'.'.join(tags)})",
                hint="merge one x86_64 wheel with one arm64 wheel",
            )
        arch = archs.pop()
        if arch in by_arch:
            raise RepairError(
                f"{by_arch[arch].name} and {wheel.name} are both {arch} wheels",
                hint="merge one x86_64 wheel with one arm64 wheel",
            )
        by_arch[arch] = wheel
    if heads[0] != heads[1]:
        raise RepairError(
            f"{wheels[0].name} and {wheels[1].name} are not the same build "
            f"({heads[0]} and {heads[1]})",
            hint="merge wheels of the same project, version and Python tags",
        )
    return [by_arch[arch] for arch in UNIVERSAL2]


def fuse(wheels: list[Path], request: RepairRequest) -> RepairResult:
    ordered = check_fusable(wheels)
    check_host()
    out = request.output_dir
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.whl"))
    request.reporter.step(f"merging {ordered[0].name} and {ordered[1].name} into universal2 (delocate)")
    result = run_delocate("delocate_merge", ["-v", "-w", out, *ordered], request.reporter)
    if result.returncode != 0:
        raise RepairError(
            f"delocate could not merge {ordered[0].name} and {ordered[1].name}: {last_words(result.output)}",
            hint="run again with -v to see delocate's output",
            details=result.output,
        )
    made = sorted(set(out.glob("*.whl")) - before)
    tags = wheelfile.platform_tags(made[0]) if len(made) == 1 else []
    if not tags or not all(tag.endswith("_universal2") for tag in tags):
        raise RepairError(
            f"delocate-merge wrote {', '.join(p.name for p in made) or 'nothing'}, not one universal2 wheel",
            details=result.output,
        )
    return RepairResult(
        path=made[0], repaired=True, repairer=NAME, policy=".".join(tags),
        reason=f"merged {ordered[0].name} and {ordered[1].name}",
    )
