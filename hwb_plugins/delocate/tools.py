"""What delocate needs on this machine, macOS architecture names, and running its commands."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from hwb import RepairError, Reporter, RunResult, process

#: The delocate releases hwb drives (kept in step with pyproject.toml).
REQUIREMENT = "delocate>=0.12,<0.14"

#: Apple's tools delocate calls. On Linux, LLVM's Mach-O tools can stand in (see docs/repair.md).
APPLE_TOOLS = ("otool", "install_name_tool", "lipo", "codesign")

#: Architecture words in macOS platform tags -> the architectures they stand for.
TAG_ARCHS: dict[str, tuple[str, ...]] = {
    "x86_64": ("x86_64",),
    "arm64": ("arm64",),
    "i386": ("i386",),
    "universal2": ("x86_64", "arm64"),
    "intel": ("i386", "x86_64"),
}

_TAG = re.compile(r"macosx_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>[a-z0-9_]+)")


def tag_parts(tag: str) -> tuple[str, str]:
    """``macosx_11_0_arm64`` -> (``"11.0"``, ``"arm64"``)."""
    match = _TAG.fullmatch(tag)
    if not match:
        raise RepairError(f"{tag} is not a macOS platform tag", hint="expected macosx_X_Y_ARCH")
    return f"{match.group('major')}.{match.group('minor')}", match.group("arch")


def archs_of(words: list[str], what: str) -> list[str]:
    """Architectures named by tag words or configuration entries, in a stable order."""
    found: list[str] = []
    for word in words:
        archs = TAG_ARCHS.get(word.strip().lower())
        if archs is None:
            raise RepairError(
                f"{what}: unknown macOS architecture {word!r}",
                hint="use x86_64, arm64, universal2 (both), i386 or intel",
            )
        found += [a for a in archs if a not in found]
    order = ["i386", "x86_64", "arm64"]
    return sorted(found, key=order.index)


def check_host() -> None:
    """delocate and Apple's tools must be here; the error says what is missing."""
    import importlib.util

    missing = [tool for tool in APPLE_TOOLS if shutil.which(tool) is None]
    if missing:
        raise RepairError(
            f"delocate needs Apple's {', '.join(missing)}, not found on this machine ({sys.platform})",
            hint="repair macOS wheels on macOS with the Xcode command line tools "
            "(xcode-select --install); `hwb build --no-repair` publishes them unrepaired",
        )
    if importlib.util.find_spec("delocate") is None:
        raise RepairError(
            f"delocate is not installed beside hwb ({sys.executable})",
            hint=f"{sys.executable} -m pip install '{REQUIREMENT}'",
        )


def run_delocate(
    command: str, args: list[str | Path], reporter: Reporter, environ: dict[str, str] | None = None
) -> RunResult:
    """``python -m delocate.cmd.<command> ARGS`` with hwb's interpreter; never raises on exit."""
    return process.run(
        [sys.executable, "-m", f"delocate.cmd.{command}", *(str(a) for a in args)],
        reporter=reporter,
        env=environ if environ is not None else dict(os.environ),
        check=False,
    )


def last_words(output: str) -> str:
    """The line that says why delocate failed (its exception's message, usually last)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for index in range(len(lines) - 1, -1, -1):
        match = re.match(
            r"(?:delocate\.\w+\.)?(\w*(?:Error|Exception|NotFound)): (.*)", lines[index]
        )
        if match:
            return match.group(2)
    return lines[-1] if lines else "no output"


def without_tracebacks(output: str) -> str:
    """delocate's output less Python's tracebacks (delocate's commands end in an uncaught
    exception): its log lines and the exception's own lines, which say what went wrong."""
    kept: list[str] = []
    skipping = False
    for line in output.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            skipping = True
            continue
        if not line.strip() or (skipping and line[:1].isspace()):
            continue
        if line.startswith(
            ("The above exception was the direct cause", "During handling of the above")
        ):
            continue
        skipping = False
        kept.append(line)
    return "\n".join(kept).strip("\n") + "\n" if kept else ""


# Mach-O CPU types (mach/machine.h); arm64e and the other subtypes count as their family.
_CPU_TYPES = {
    7: "i386",
    0x01000007: "x86_64",
    12: "arm",
    0x0100000C: "arm64",
    0x0200000C: "arm64_32",
    18: "ppc",
    0x01000012: "ppc64",
}


def macho_archs(data: bytes) -> frozenset[str] | None:
    """The architectures of a Mach-O file (thin or fat) from its header, ``None`` when ``data``
    is not Mach-O. Read in Python, so the check runs without Apple's tools."""
    if len(data) < 8:
        return None
    magic = int.from_bytes(data[:4], "big")
    if magic in (0xCAFEBABE, 0xCAFEBABF):  # fat (universal) file; BF: 64-bit offsets
        count = int.from_bytes(data[4:8], "big")
        if not 0 < count < 32:  # Java class files share the magic; their version is >= 45
            return None
        entry = 20 if magic == 0xCAFEBABE else 32
        if len(data) < 8 + count * entry:
            return None
        return frozenset(
            _CPU_TYPES.get(cpu, hex(cpu))
            for cpu in (
                int.from_bytes(data[8 + i * entry : 12 + i * entry], "big") for i in range(count)
            )
        )
    for little in (True, False):
        if _int(data[:4], little) in (0xFEEDFACE, 0xFEEDFACF):
            cpu = _int(data[4:8], little)
            return frozenset({_CPU_TYPES.get(cpu, hex(cpu))})
    return None


def _int(data: bytes, little: bool) -> int:
    return int.from_bytes(data, "little") if little else int.from_bytes(data, "big")


def missing_archs(wheel: Path, required: list[str]) -> dict[str, list[str]]:
    """Every Mach-O member of ``wheel`` that lacks one of ``required`` -> what it lacks."""
    import zipfile

    lacking: dict[str, list[str]] = {}
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            with zf.open(info) as member:
                head = member.read(4096)
            archs = macho_archs(head)
            if archs is None:
                continue
            missing = [arch for arch in required if arch not in archs]
            if missing:
                lacking[info.filename] = missing
    return lacking
