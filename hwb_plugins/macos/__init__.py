"""macOS targets: ``--platform macos``, ``macosx-11.0-universal2``, ``macos-arm64`` and this
Mac. Fills in the architecture and deployment target (:mod:`.rules`), tells the backend
(``MACOSX_DEPLOYMENT_TARGET``, ``ARCHFLAGS``, ``_PYTHON_HOST_PLATFORM``) and checks the tags of
what it built. See ``docs/platforms.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from hwb import Config, PythonInfo, Reporter, UsageError, hookimpl, host, wheelfile
from hwb.target import Target
from hwb_plugins.macos import rules


@hookimpl
def resolve_target(
    asked: str | None, config: Config, python: PythonInfo, environ: Mapping[str, str]
) -> Target | None:
    here = host.host_os()
    target = rules.parse(asked) if asked else (Target("macos") if here == "macos" else None)
    if target is None:
        return None
    if here != "macos":
        raise UsageError(
            f"macOS wheels are built on macOS; this machine runs {host.pretty(here)}",
            hint="build them on that system (hwb matrix skips them elsewhere), or leave "
            "--platform out",
        )
    return rules.resolve(target, config, python, environ)


@hookimpl
def prepare_target(target: Target) -> dict[str, str] | None:
    return rules.backend_environment(target) if target.os == "macos" else None


@hookimpl
def check_wheel(target: Target, wheel: Path, reporter: Reporter) -> None:
    if target.os != "macos":
        return
    mismatch = rules.check_wheel_tags(target, wheel.name, wheelfile.platform_tags(wheel))
    if mismatch:
        reporter.warn(mismatch)
