"""Windows targets: ``--platform windows``, ``win-amd64``, ``win-arm64``, ``win32`` and this
Windows machine. The architecture is the interpreter's (another one takes an interpreter of
that architecture); a project with extension modules needs Visual Studio's C++ tools, found
through vswhere before anything is built (:mod:`.msvc`). See ``docs/platforms.md``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from hwb import (
    BuildError,
    Project,
    PythonInfo,
    Reporter,
    UsageError,
    extensions,
    hookimpl,
    host,
    wheelfile,
)
from hwb.target import Target, parse_target

#: Windows architectures as wheel tags (and ``sysconfig.get_platform()``) spell them.
WINDOWS_TAGS = {"x86_64": "win_amd64", "arm64": "win_arm64", "x86": "win32"}
_ARCH_OF_TAG = {tag: arch for arch, tag in WINDOWS_TAGS.items()}


def parse(text: str) -> Target | None:
    """``windows``, ``win-amd64``, ``win-arm64``, ``win32`` (32-bit, as ``sysconfig`` says) as
    a Target; ``None`` for text that names no Windows target."""
    raw = text.strip().lower()
    if raw == "win32":
        return Target("windows", "x86", asked=True)
    if not raw.startswith("win"):
        return None
    try:
        target = parse_target(raw)
    except UsageError:
        if raw.split("-")[0].split("_")[0] in ("win", "windows"):
            raise
        return None
    return target if target.os == "windows" else None


@hookimpl
def resolve_target(asked: str | None, python: PythonInfo) -> Target | None:
    here = host.host_os()
    target = parse(asked) if asked else (Target("windows") if here == "windows" else None)
    if target is None:
        return None
    if here != "windows":
        raise UsageError(
            f"Windows wheels are built on Windows; this machine runs {host.pretty(here)}",
            hint="build them on that system (hwb matrix skips them elsewhere), or leave "
            "--platform out",
        )
    own = _ARCH_OF_TAG.get(python.platform_tag)
    if target.arch is None:
        return dataclasses.replace(target, arch=own or host.host_arch("windows"))
    if own is not None and own != target.arch:
        raise UsageError(
            f"{python.describe()} builds {python.platform_tag} wheels, not "
            f"{WINDOWS_TAGS[target.arch]}",
            hint=f"build with a {target.arch} interpreter (--python PATH; `py -0p` lists them)",
        )
    return target


@hookimpl
def prepare_target(
    target: Target, project: Project, environ: Mapping[str, str], reporter: Reporter
) -> None:
    """A Windows build of a project with extension modules needs Visual Studio's C++ tools;
    their absence is a one-line error with the fix."""
    if target.os != "windows" or not extensions.of(project).detected:
        return
    from hwb_plugins.windows import msvc

    found = msvc.find_visual_studio(environ)
    reporter.info(f"Visual Studio with the C++ tools: {found.installation_path}")


@hookimpl
def check_wheel(target: Target, wheel: Path) -> None:
    if target.os != "windows" or target.arch is None:
        return
    tags = wheelfile.platform_tags(wheel)
    wanted = WINDOWS_TAGS[target.arch]
    if tags not in (["any"], [wanted]):
        raise BuildError(
            f"{wheel.name} is tagged {'.'.join(tags)}, but the build was for {wanted}",
            hint="build with an interpreter of that architecture (`py -0p` lists them)",
        )
