"""The rules of macOS targets: architectures (universal2 is x86_64 and arm64), the deployment
target and where it comes from, what the backend must hear to build for them, and the tags the
wheel must then carry."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from hwb import BuildError, Config, ConfigError, PythonInfo, host
from hwb.target import Target, parse_arch

#: The macOS settings of ``[tool.hwb.matrix.macos]`` that single builds read as well (when the
#: matrix plugin, which declares them, is installed).
DEPLOYMENT_TARGET_KEY = "matrix.macos.deployment-target"
UNIVERSAL2_KEY = "matrix.macos.universal2"

#: The first macOS release that runs on arm64: the oldest deployment target of arm64 binaries.
FIRST_ARM64_MACOS = (11, 0)
#: Deployment target when nothing else names one (what python.org's x86_64 builds support).
DEFAULT_MACOS = {"x86_64": "10.9", "universal2": "10.9", "arm64": "11.0"}

_MACOS = re.compile(
    r"(?P<os>macosx|macos|osx|darwin|mac)(?:[-_](?P<major>\d+)(?:[._](?P<minor>\d+))?)?"
    r"(?:[-_](?P<arch>[a-z0-9_]+))?"
)
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.\d+)?")


def parse(text: str) -> Target | None:
    """``macos``, ``macosx-11.0-universal2``, ``macosx_11_0_arm64`` (a wheel tag's spelling),
    ``macos-x86_64`` as a Target; ``None`` for text that names no macOS target."""
    mac = _MACOS.fullmatch(text.strip().lower())
    if not mac:
        return None
    arch = parse_arch("macos", mac.group("arch"), text)
    version = None
    if mac.group("major"):
        version = f"{int(mac.group('major'))}.{int(mac.group('minor') or 0)}"
    return Target("macos", arch, version, "--platform" if version else "", asked=True)


def resolve(
    target: Target, config: Config, python: PythonInfo, environ: Mapping[str, str]
) -> Target:
    """Every blank of a macOS target filled in. The architecture is, in order: the one asked
    for, ``universal2`` when ``[tool.hwb.matrix.macos] universal2`` is true, the interpreter's
    own when it is thin, this machine's. The deployment target is the one asked for, else
    ``matrix.macos.deployment-target``, else ``MACOSX_DEPLOYMENT_TARGET`` in hwb's environment,
    else the interpreter's, else 10.9 (11.0 for arm64); arm64 binaries need 11.0 at least."""
    return _resolve_macos(target, config, python, environ)


def _resolve_macos(
    target: Target, config: Config, python: PythonInfo, environ: Mapping[str, str]
) -> Target:
    own_version, own_arch = macos_tag_parts(python.platform_tag)
    arch = target.arch
    if arch is None:
        if _get(config, UNIVERSAL2_KEY):
            arch = "universal2"
        elif own_arch in ("x86_64", "arm64"):
            arch = own_arch
        else:
            arch = host.host_arch("macos")
    candidates: list[tuple[str, str | None]] = [
        (target.source, target.deployment_target),
        (
            f"{DEPLOYMENT_TARGET_KEY} ({_source(config, DEPLOYMENT_TARGET_KEY)})",
            _get(config, DEPLOYMENT_TARGET_KEY),
        ),
        ("MACOSX_DEPLOYMENT_TARGET", environ.get("MACOSX_DEPLOYMENT_TARGET")),
        (f"the interpreter ({python.platform_tag})", own_version),
        ("hwb's default", DEFAULT_MACOS.get(arch, "10.9")),
    ]
    source, version = next((s, v) for s, v in candidates if v)
    version = normalize_macos_version(str(version), source)
    if arch == "arm64" and _version_tuple(version) < FIRST_ARM64_MACOS:
        version, source = "11.0", f"11.0, the first macOS on arm64 ({source} said {version})"
    return dataclasses.replace(target, arch=arch, deployment_target=version, source=source)


def _get(config: Config, key: str) -> str | None:
    """A ``[tool.hwb.matrix.macos]`` setting, ``None`` when no plugin declares it."""
    value = config.get(key) if key in config.schema else None
    return None if value in (None, False, "") else str(value)


def _source(config: Config, key: str) -> str:
    return config.source(key) if key in config.schema else "default"


def normalize_macos_version(text: str, source: str) -> str:
    """``"11"`` -> ``"11.0"``; anything that is not a macOS version is a configuration error
    naming ``source``."""
    match = _VERSION.fullmatch(text.strip())
    if not match or not 10 <= int(match.group(1)) < 100:
        raise ConfigError(
            f"{source}: {text!r} is not a macOS version", hint="write it like 11.0 or 10.13"
        )
    return f"{int(match.group(1))}.{int(match.group(2) or 0)}"


def _version_tuple(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor or 0)


def macos_tag_parts(tag: str) -> tuple[str | None, str | None]:
    """``macosx_10_9_universal2`` -> (``"10.9"``, ``"universal2"``); (None, None) otherwise."""
    match = re.fullmatch(r"macosx_(\d+)_(\d+)_([a-z0-9_]+)", tag)
    if not match:
        return None, None
    return f"{match.group(1)}.{match.group(2)}", match.group(3)


def backend_environment(target: Target) -> dict[str, str]:
    """The variables a PEP 517 backend needs to build for ``target`` (resolved).

    macOS: ``MACOSX_DEPLOYMENT_TARGET`` (compilers and bdist_wheel read it), ``ARCHFLAGS``
    (setuptools puts it in place of the interpreter's own ``-arch`` flags) and
    ``_PYTHON_HOST_PLATFORM`` (``sysconfig.get_platform()`` returns it, so the wheel is tagged
    for what was compiled, not for the interpreter). Other targets: nothing."""
    if target.os != "macos":
        return {}
    if target.arch is None or target.deployment_target is None:
        raise ValueError(f"target {target} is not resolved (call resolve_target first)")
    major, minor = _version_tuple(target.deployment_target)
    return {
        "MACOSX_DEPLOYMENT_TARGET": target.deployment_target,
        "ARCHFLAGS": " ".join(f"-arch {arch}" for arch in target.archs),
        "_PYTHON_HOST_PLATFORM": f"macosx-{major}.{minor if major < 11 else 0}-{target.arch}",
    }


def wheel_tags(target: Target) -> list[str]:
    """The platform tags a wheel built for a macOS ``target`` carries before repair:
    ``macosx_11_0_universal2`` (macOS 11 and later have no minor version in tags)."""
    if target.arch is None or target.deployment_target is None:
        raise ValueError(f"target {target} is not resolved (call resolve_target first)")
    major, minor = _version_tuple(target.deployment_target)
    return [f"macosx_{major}_{minor if major < 11 else 0}_{target.arch}"]


def check_wheel_tags(target: Target, wheel_name: str, tags: Sequence[str]) -> str | None:
    """Compare what a backend built with what it was asked for. Raises :class:`BuildError`
    when the architecture differs (the backend ignored ``ARCHFLAGS``, or the interpreter is of
    another architecture); returns a warning when only the macOS version does (bdist_wheel
    raises it to what the compiled binaries need). Linux wheels are left to the repairer."""
    if list(tags) == ["any"] or target.os != "macos" or target.arch is None:
        return None
    wanted = wheel_tags(target)
    if list(tags) == wanted:
        return None
    arches = [macos_tag_parts(tag)[1] for tag in tags]
    if arches != [target.arch]:
        raise BuildError(
            f"{wheel_name} is tagged {'.'.join(tags)}, but the build was for {target.arch} "
            f"(ARCHFLAGS={backend_environment(target)['ARCHFLAGS']!r})",
            hint="the backend did not build for the asked architectures; check that it reads "
            "ARCHFLAGS and _PYTHON_HOST_PLATFORM (setuptools does; others have their own "
            "settings), or ask for the architecture it builds",
        )
    return (
        f"{wheel_name} is tagged {'.'.join(tags)} rather than {wanted[0]}: its binaries need a "
        f"newer macOS than the deployment target {target.deployment_target} ({target.source})"
    )
