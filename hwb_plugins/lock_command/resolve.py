"""Resolving build requirements into a constraints file with uv (``uv pip compile
--generate-hashes``): one universal resolution, or one per interpreter and platform asked for,
merged into one file (a version that differs between them gets markers)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hwb import BuildError, UsageError, installer_environment
from hwb.constraints import Pin, parse

#: ``--platform`` values and the markers that tell them apart (uv's own names are accepted too).
_SYS_PLATFORM = {"linux": "linux", "darwin": "darwin", "macos": "darwin", "windows": "win32"}


def find_uv() -> str:
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
    if not found:
        raise UsageError("hwb lock resolves with uv, which is missing", hint="pip install uv")
    return found


def compile_pins(
    requirements: Sequence[str],
    *,
    pythons: Sequence[str],
    platforms: Sequence[str],
    lowest_python: str,
) -> tuple[list[str], list[str]]:
    """``(lines, commands)``: the file's requirement lines (with hashes and markers), and the
    uv commands that resolved them."""
    if not pythons and not platforms:
        command = ["--universal", "--python-version", lowest_python]
        text = _compile(requirements, command)
        return _lines(parse(text, Path("uv output")), None), [_shown(command)]
    wanted_platforms: list[str | None] = list(platforms) or [None]
    combos = [(v, p) for v in (pythons or [lowest_python]) for p in wanted_platforms]
    results: list[tuple[str, str | None, tuple[Pin, ...]]] = []
    commands = []
    for version, platform in combos:
        args = ["--python-version", version] + (["--python-platform", platform] if platform else [])
        commands.append(_shown(args))
        results.append((version, platform, parse(_compile(requirements, args), Path("uv output"))))
    return _merge(results), commands


def _shown(args: Sequence[str]) -> str:
    return " ".join(["uv pip compile --generate-hashes", *args])


def _compile(requirements: Sequence[str], args: Sequence[str]) -> str:
    with tempfile.TemporaryDirectory(prefix="hwb-lock-") as tmp:
        wanted = Path(tmp) / "requirements.in"
        wanted.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        cmd = [find_uv(), "pip", "compile", "--quiet", "--no-header", "--no-annotate"]
        cmd += ["--generate-hashes", "--no-config", *args, str(wanted)]
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            cwd=tmp,
            env=installer_environment(os.environ),
        )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["uv failed"])[-1]
        raise BuildError(
            f"uv could not resolve the build requirements ({last})",
            hint="check [build-system] requires and the --python/--platform values",
            details=done.stderr,
        )
    return done.stdout


def _lines(pins: Sequence[Pin], marker: str | None) -> list[str]:
    out = []
    for pin in sorted(pins, key=lambda p: (p.name, p.marker or "")):
        markers = [m for m in (pin.marker, marker) if m]
        head = pin.requirement + (
            " ; " + " and ".join(f"({m})" if " or " in m else m for m in markers) if markers else ""
        )
        out.append(" \\\n    ".join([head, *(f"--hash={h}" for h in pin.hashes)]))
    return out


def _marker(version: str, platform: str | None) -> str:
    parts = [f"python_version == '{'.'.join(version.split('.')[:2])}'"]
    if platform:
        system = next((m for key, m in _SYS_PLATFORM.items() if key in platform), None)
        if system:
            parts.append(f"sys_platform == '{system}'")
        arch = re.match(r"(x86_64|aarch64|arm64|i686|ppc64le|s390x|armv7l)\b", platform)
        if arch:
            parts.append(f"platform_machine == '{arch.group(1)}'")
    return " and ".join(parts)


def _merge(results: Sequence[tuple[str, str | None, tuple[Pin, ...]]]) -> list[str]:
    """One line per distribution when every resolution chose the same version (hashes
    united), else one per resolution, with its marker."""
    versions: dict[str, set[str]] = {}
    for _, _, pins in results:
        for pin in pins:
            versions.setdefault(pin.name, set()).add(pin.requirement)
    lines: list[str] = []
    same: dict[str, Pin] = {}
    for version, platform, pins in results:
        for pin in pins:
            if len(versions[pin.name]) == 1 and pin.marker is None:
                known = same.get(pin.name)
                hashes = tuple(dict.fromkeys((*(known.hashes if known else ()), *pin.hashes)))
                same[pin.name] = Pin(pin.name, pin.requirement, pin.specifier, None, hashes)
            else:
                lines += _lines([pin], _marker(version, platform))
    return sorted(dict.fromkeys([*_lines(list(same.values()), None), *lines]))
