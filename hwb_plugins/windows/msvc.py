"""Finding Visual Studio's C++ build tools on Windows, through vswhere.

Extension modules on Windows are compiled by MSVC, which setuptools (and most other backends)
locate themselves. hwb asks first, with the same tool and the same requirement, so that a
machine without the C++ tools fails in one line with the fix, before an environment is made,
instead of deep in a compiler traceback. Only projects with extension modules are checked.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path

from hwb import BuildError

#: The workload component that carries the x86/x64 compilers; setuptools requires the same one.
VC_TOOLS = "Microsoft.VisualStudio.Component.VC.Tools.x86.x64"
_INSTALL_HINT = (
    "install the Visual Studio Build Tools with the 'Desktop development with C++' workload "
    "(https://visualstudio.microsoft.com/visual-cpp-build-tools/), or build a pure-Python project"
)


@dataclasses.dataclass(frozen=True)
class VisualStudio:
    installation_path: Path
    vswhere: Path


def vswhere_path(environ: Mapping[str, str]) -> Path:
    """``%ProgramFiles(x86)%\\Microsoft Visual Studio\\Installer\\vswhere.exe``: the place the
    Visual Studio Installer always puts it, whatever edition or version was installed."""
    base = environ.get("ProgramFiles(x86)") or r"C:\Program Files (x86)"
    return Path(base) / "Microsoft Visual Studio" / "Installer" / "vswhere.exe"


def vswhere_command(vswhere: Path) -> list[str]:
    return [
        str(vswhere),
        "-latest",
        "-products",
        "*",
        "-requires",
        VC_TOOLS,
        "-property",
        "installationPath",
        "-format",
        "json",
    ]


def parse_vswhere(output: str) -> list[Path]:
    """Installation paths from ``vswhere -format json`` output (a JSON array of objects, with
    only ``installationPath`` when ``-property`` asked for it). Raises :class:`ValueError` on
    anything else."""
    data = json.loads(output or "[]")
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON array, got {type(data).__name__}")
    paths = []
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("installationPath"), str):
            raise ValueError(f"an instance without installationPath: {entry!r}")
        paths.append(Path(entry["installationPath"]))
    return paths


def find_visual_studio(environ: Mapping[str, str], *, timeout: float = 60) -> VisualStudio:
    """The newest Visual Studio (any edition, Build Tools included) with the C++ x64 tools.
    Raises :class:`BuildError` with a one-line reason and the fix when there is none."""
    vswhere = vswhere_path(environ)
    if not vswhere.is_file():
        raise BuildError(
            f"Visual Studio was not found: {vswhere} does not exist (the Visual Studio "
            "Installer puts it there), and this project has extension modules to compile",
            hint=_INSTALL_HINT,
        )
    try:
        out = subprocess.run(
            vswhere_command(vswhere),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=dict(environ),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"could not run {vswhere}: {exc}", hint=_INSTALL_HINT) from None
    if out.returncode != 0:
        raise BuildError(
            f"{vswhere.name} failed (exit code {out.returncode})",
            hint="repair the Visual Studio installation (Visual Studio Installer, Repair)",
            details=(out.stdout + out.stderr).strip(),
        )
    try:
        found = parse_vswhere(out.stdout)
    except ValueError as exc:
        raise BuildError(
            f"{vswhere.name} printed something hwb cannot read ({exc})",
            details=out.stdout.strip(),
        ) from None
    if not found:
        raise BuildError(
            f"Visual Studio is installed but none of its instances has the C++ build tools "
            f"({VC_TOOLS}), which this project's extension modules need",
            hint="in the Visual Studio Installer, add the 'Desktop development with C++' "
            "workload (or the MSVC x64/x86 build tools component)",
        )
    path = found[0]
    if not (path / "VC" / "Auxiliary" / "Build").is_dir():
        raise BuildError(
            f"Visual Studio at {path} has no VC\\Auxiliary\\Build (vcvarsall.bat), where the "
            "compilers' environment is set up",
            hint="repair the installation in the Visual Studio Installer",
        )
    return VisualStudio(path, vswhere)
