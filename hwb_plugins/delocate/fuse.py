"""Two thin macOS wheels of one build (``x86_64`` and ``arm64``) merged into ``universal2``.

The checks run first, in Python, so that a mistake (two wheels of different versions, the same
architecture twice) is named before any tool runs; then ``delocate-merge`` fuses every binary
with ``lipo`` and computes the new tag.
"""

from __future__ import annotations

from pathlib import Path

from hwb import RepairError, RepairRequest, RepairResult, wheelfile
from hwb_plugins.delocate import NAME
from hwb_plugins.delocate.tools import (
    check_host,
    last_words,
    missing_archs,
    run_delocate,
    tag_parts,
    without_tracebacks,
)

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
        heads.append(build_of(wheel))
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
        differ = [what for what, a, b in zip(_PARTS, heads[0], heads[1], strict=True) if a != b]
        raise RepairError(
            f"{wheels[0].name} and {wheels[1].name} are not the same build "
            f"(their {' and '.join(differ)} differ)",
            hint="merge wheels of the same project, version and Python tags",
        )
    return [by_arch[arch] for arch in UNIVERSAL2]


_PARTS = ("projects", "versions", "build numbers", "Python tags")


def build_of(wheel: Path) -> tuple[str, str, str, str]:
    """What two wheels of one build share: the project (normalized: ``MarkupSafe`` and
    ``markupsafe`` are one), version, build number and Python/ABI tags."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        name, version, build, tags = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as exc:
        raise RepairError(f"{wheel.name} is not a wheel's file name: {exc}") from None
    pythons = ".".join(sorted({f"{tag.interpreter}-{tag.abi}" for tag in tags}))
    return str(name), str(version), "".join(str(part) for part in build), pythons


def fuse(wheels: list[Path], request: RepairRequest) -> RepairResult:
    ordered = check_fusable(wheels)
    check_host()
    out = request.output_dir
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.whl"))
    request.reporter.step(
        f"merging {ordered[0].name} and {ordered[1].name} into universal2 (delocate)"
    )
    result = run_delocate("delocate_merge", ["-v", "-w", out, *ordered], request.reporter)
    if result.returncode != 0:
        raise RepairError(
            f"delocate could not merge {ordered[0].name} and {ordered[1].name}: {last_words(result.output)}",
            hint="run again with -v to see delocate's output",
            details=without_tracebacks(result.output),
        )
    made = sorted(set(out.glob("*.whl")) - before)
    tags = wheelfile.platform_tags(made[0]) if len(made) == 1 else []
    if not tags or not all(tag.endswith("_universal2") for tag in tags):
        raise RepairError(
            f"delocate-merge wrote {', '.join(p.name for p in made) or 'nothing'}, not one universal2 wheel",
            details=result.output,
        )
    lacking = missing_archs(made[0], list(UNIVERSAL2))
    if lacking:
        where = "; ".join(f"{name} lacks {'+'.join(m)}" for name, m in sorted(lacking.items()))
        raise RepairError(
            f"the universal2 wheel merged from {ordered[0].name} and {ordered[1].name} has "
            f"binaries that are not universal2 ({where})",
            hint="both thin wheels must hold the same extensions and libraries",
        )
    return RepairResult(
        path=made[0],
        repaired=True,
        repairer=NAME,
        policy=".".join(tags),
        reason=f"merged {ordered[0].name} and {ordered[1].name}; every binary holds x86_64+arm64",
    )
