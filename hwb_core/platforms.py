"""The platform layer: what this machine is, what a build targets, and what the backend needs
to hear for it.

The pipeline asks this module, plugins ask it too; nothing else looks at ``sys.platform``::

    host_os()                          "linux", "macos", "windows"
    parse_target("macosx-11.0-universal2")  -> Target(os="macos", arch="universal2", ...)
    resolve_target(asked, config, python, environ)  -> a Target with every blank filled in
    backend_environment(target)        {"MACOSX_DEPLOYMENT_TARGET": "11.0", "ARCHFLAGS": ...}
    wheel_tags(target)                 ["macosx_11_0_universal2"]

The platform and architecture vocabulary (names, aliases) lives in :mod:`hwb_core.matrix_config`,
shared with ``hwb matrix``. Tests change what the host is by monkeypatching :func:`host_os` and
:func:`host_arch` here; callers go through the module attribute (``platforms.host_os()``) so
that they see the change.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from hwb_core import matrix_config
from hwb_core.errors import BuildError, ConfigError, UsageError
from hwb_core.interfaces import CliOption, ConfigKey, PythonInfo

if TYPE_CHECKING:
    from hwb_core.config import Config
    from hwb_core.interfaces import BuildEnv, Reporter
    from hwb_core.project import Project

#: The configuration key that names the target (``--platform`` of ``hwb build``).
TARGET_KEY = "platform"
#: The macOS settings of ``[tool.hwb.matrix.macos]`` that single builds read as well.
DEPLOYMENT_TARGET_KEY = "matrix.macos.deployment-target"
UNIVERSAL2_KEY = "matrix.macos.universal2"

PLATFORM_KEYS: dict[str, ConfigKey] = {
    TARGET_KEY: ConfigKey(
        "str",
        None,
        "Platform to build for: macos, macosx-11.0-universal2, macos-arm64, windows, win-amd64, "
        "win-arm64, linux (default: this machine, with [tool.hwb.matrix.macos] settings on macOS).",
        env="HWB_PLATFORM",
    ),
}

CLI_OPTIONS = [
    CliOption(
        ("--platform",),
        TARGET_KEY,
        "Platform to build for: macos, macosx-11.0-universal2, macos-arm64, windows, "
        "win-amd64, win-arm64, linux (default: this machine).",
        metavar="TARGET",
    )
]

#: The first macOS release that runs on arm64: the oldest deployment target of arm64 binaries.
FIRST_ARM64_MACOS = (11, 0)
#: Deployment target when nothing else names one (what python.org's x86_64 builds support).
DEFAULT_MACOS = {"x86_64": "10.9", "universal2": "10.9", "arm64": "11.0"}

#: Windows architectures as wheel tags (and ``sysconfig.get_platform()``) spell them.
WINDOWS_TAGS = {"x86_64": "win_amd64", "arm64": "win_arm64", "x86": "win32"}
_WINDOWS_ARCH_OF_TAG = {tag: arch for arch, tag in WINDOWS_TAGS.items()}

_HINT = (
    "write it like macos, macosx-11.0-universal2, macos-arm64, windows, win-amd64, win-arm64 "
    "or linux-x86_64"
)
_MACOS = re.compile(
    r"(?P<os>macosx|macos|osx|darwin|mac)(?:[-_](?P<major>\d+)(?:[._](?P<minor>\d+))?)?"
    r"(?:[-_](?P<arch>[a-z0-9_]+))?"
)
_OTHER = re.compile(r"(?P<os>[a-z0-9]+?)(?:[-_](?P<arch>[a-z0-9_]+))?")
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.\d+)?")


# --------------------------------------------------------------------------- the host


def host_os() -> str:
    """This machine's operating system: ``linux``, ``macos``, ``windows`` (or ``sys.platform``)."""
    return matrix_config.host_platform()


def host_arch(os_name: str | None = None) -> str:
    """This machine's architecture, spelled as ``os_name``'s wheel tags spell it."""
    return matrix_config.host_arch(os_name or host_os())


PRETTY = {"linux": "Linux", "macos": "macOS", "windows": "Windows"}


def pretty(os_name: str) -> str:
    return PRETTY.get(os_name, os_name)


# --------------------------------------------------------------------------- targets


@dataclasses.dataclass(frozen=True)
class Target:
    """What a build is for. ``arch`` is the word of the wheel tag (``universal2``, ``x86_64``,
    ``arm64``, ``x86``, ``aarch64``); ``None`` until :func:`resolve_target` fills it in."""

    os: str
    arch: str | None = None
    deployment_target: str | None = None
    """macOS only: the oldest macOS the wheel supports, ``"11.0"``."""
    source: str = ""
    """Where the deployment target came from, for messages (``--platform``, a key, ...)."""
    asked: bool = False
    """True when ``--platform`` (or the ``platform`` key) named it; False for this machine."""

    @property
    def archs(self) -> tuple[str, ...]:
        """The architectures every binary must hold: ``universal2`` is x86_64 and arm64."""
        if self.arch is None:
            return ()
        if self.arch == "universal2":
            return ("x86_64", "arm64")
        return (self.arch,)

    @property
    def spec(self) -> str:
        """The target written as ``--platform`` takes it (``macosx-11.0-universal2``)."""
        if self.os == "macos" and self.deployment_target:
            return f"macosx-{self.deployment_target}-{self.arch or ''}".rstrip("-")
        return f"{self.os}-{self.arch}" if self.arch else self.os

    def describe(self) -> str:
        text = pretty(self.os) + (f" {self.arch}" if self.arch else "")
        if self.deployment_target:
            text += f", {pretty(self.os)} {self.deployment_target}+"
        return text


def parse_target(text: str) -> Target:
    """``--platform`` text as a :class:`Target`. Accepts ``macos``, ``macosx-11.0-universal2``,
    ``macosx_11_0_arm64`` (a wheel tag's spelling), ``macos-x86_64``, ``windows``,
    ``win-amd64``, ``win-arm64``, ``win32`` (32-bit, as ``sysconfig`` says), ``linux``,
    ``linux-aarch64``."""
    raw = text.strip().lower()
    if not raw:
        raise UsageError("--platform is empty", hint=_HINT)
    mac = _MACOS.fullmatch(raw)
    if mac:
        arch = _arch("macos", mac.group("arch"), text)
        version = None
        if mac.group("major"):
            version = f"{int(mac.group('major'))}.{int(mac.group('minor') or 0)}"
        return Target("macos", arch, version, "--platform" if version else "", asked=True)
    docker_arch = {v: k for k, v in matrix_config.DOCKER_PLATFORMS.items()}.get(raw)
    if docker_arch:  # docker's spelling, linux/arm64: the docker isolation builds it
        return Target("linux", docker_arch, asked=True)
    if raw == "win32":  # sysconfig.get_platform() of 32-bit Windows interpreters
        return Target("windows", "x86", asked=True)
    other = _OTHER.fullmatch(raw)
    if other is None:
        raise UsageError(f"unknown platform {text.strip()!r}", hint=_HINT)
    try:
        os_name = matrix_config.normalize_platform(other.group("os"))
    except UsageError:
        raise UsageError(f"unknown platform {text.strip()!r}", hint=_HINT) from None
    return Target(os_name, _arch(os_name, other.group("arch"), text), asked=True)


def _arch(os_name: str, word: str | None, text: str) -> str | None:
    if not word:
        return None
    try:
        return matrix_config.normalize_arch(os_name, word)
    except UsageError as exc:
        raise UsageError(f"--platform {text.strip()!r}: {exc.message}", hint=exc.hint) from None


def resolve_target(
    asked: str | None, config: Config, python: PythonInfo, environ: Mapping[str, str]
) -> Target:
    """The target of one build, every blank filled in.

    ``asked`` is ``--platform`` (or the ``platform`` key); without it the target is this
    machine. On macOS the architecture is, in order: the one asked for, ``universal2`` when
    ``[tool.hwb.matrix.macos] universal2`` is true, the interpreter's own when it is thin, this
    machine's. The deployment target is the one asked for, else
    ``matrix.macos.deployment-target``, else ``MACOSX_DEPLOYMENT_TARGET`` in hwb's environment,
    else the interpreter's, else 10.9 (11.0 for arm64); arm64 binaries need 11.0 at least.
    On Windows the architecture defaults to the interpreter's; another one is an error (it takes
    an interpreter of that architecture). A macOS or Windows target needs that host."""
    target = parse_target(asked) if asked else Target(host_os())
    here = host_os()
    if target.os in ("macos", "windows") and target.os != here:
        raise UsageError(
            f"{pretty(target.os)} wheels are built on {pretty(target.os)}; this machine runs "
            f"{pretty(here)}",
            hint="build them on that system (hwb matrix skips them elsewhere), or leave "
            "--platform out",
        )
    if target.os == "macos":
        return _resolve_macos(target, config, python, environ)
    if target.os == "windows":
        return _resolve_windows(target, python)
    if target.arch is None:
        return dataclasses.replace(target, arch=host_arch(target.os))
    return target


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
            arch = host_arch("macos")
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


def _resolve_windows(target: Target, python: PythonInfo) -> Target:
    own = _WINDOWS_ARCH_OF_TAG.get(python.platform_tag)
    if target.arch is None:
        return dataclasses.replace(target, arch=own or host_arch("windows"))
    if own is not None and own != target.arch:
        raise UsageError(
            f"{python.describe()} builds {python.platform_tag} wheels, not "
            f"{WINDOWS_TAGS[target.arch]}",
            hint=f"build with a {target.arch} interpreter (--python PATH; `py -0p` lists them)",
        )
    return target


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


def docker_overrides(target: Target, config: Config) -> dict[str, str]:
    """A Linux target of another architecture asked for on the command line reaches the docker
    isolation as its ``platform`` (``linux/arm64``), unless that key was set itself."""
    key = "isolation.docker.platform"
    if not (target.asked and target.os == "linux" and target.arch) or key not in config.schema:
        return {}
    if config.source(key) != "default" or target.arch not in matrix_config.DOCKER_PLATFORMS:
        return {}
    return {key: matrix_config.DOCKER_PLATFORMS[target.arch]}


def check_toolchain(
    target: Target, project: Project, environ: Mapping[str, str], reporter: Reporter
) -> None:
    """Before an environment is made: a Windows build of a project with extension modules
    needs Visual Studio's C++ tools, found through vswhere (:mod:`hwb_core.msvc`); their
    absence is a one-line error with the fix. Other targets and pure projects need nothing."""
    if target.os != "windows" or not project.extensions.detected:
        return
    from hwb_core import msvc

    found = msvc.find_visual_studio(environ)
    reporter.info(f"Visual Studio with the C++ tools: {found.installation_path}")


def check_environment(target: Target, env: BuildEnv) -> Target:
    """The environment builds for the target: macOS and Windows wheels are built on the host
    (not in a Linux container), Linux wheels on a Linux host or in a container. Returns the
    target from here on: when none was asked for and the environment is a container (docker on
    a Mac), the wheel is a Linux one, of the container's architecture."""
    if not target.asked and not env.on_host:
        return Target("linux")
    if target.os in ("macos", "windows") and not env.on_host:
        raise UsageError(
            f"{pretty(target.os)} wheels cannot be built in {env.describe()}, which does not "
            "run on this machine",
            hint="build them with --isolation venv (or none)",
        )
    if target.os == "linux" and env.on_host and host_os() != "linux":
        raise UsageError(
            f"Linux wheels are built on Linux or in a container; {env.describe()} runs on "
            f"this {pretty(host_os())} machine",
            hint="build them with --isolation docker",
        )
    return target


# --------------------------------------------------------------------------- what backends hear


def backend_environment(target: Target) -> dict[str, str]:
    """The variables a PEP 517 backend needs to build for ``target`` (resolved).

    macOS: ``MACOSX_DEPLOYMENT_TARGET`` (compilers and bdist_wheel read it), ``ARCHFLAGS``
    (setuptools puts it in place of the interpreter's own ``-arch`` flags) and
    ``_PYTHON_HOST_PLATFORM`` (``sysconfig.get_platform()`` returns it, so the wheel is tagged
    for what was compiled, not for the interpreter). Linux and Windows: nothing; the interpreter
    decides (Windows settings of the venv isolation come from its own table)."""
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
    """The platform tags a wheel built for ``target`` carries before repair:
    ``macosx_11_0_universal2`` (macOS 11 and later have no minor version in tags),
    ``win_amd64``, ``linux_x86_64``."""
    if target.arch is None:
        raise ValueError(f"target {target} is not resolved (call resolve_target first)")
    if target.os == "macos":
        if target.deployment_target is None:
            raise ValueError(f"target {target} has no deployment target")
        major, minor = _version_tuple(target.deployment_target)
        return [f"macosx_{major}_{minor if major < 11 else 0}_{target.arch}"]
    if target.os == "windows":
        return [WINDOWS_TAGS[target.arch]]
    return [f"{target.os}_{target.arch}"]


def check_wheel_tags(target: Target, wheel_name: str, tags: Sequence[str]) -> str | None:
    """Compare what a backend built with what it was asked for. Raises :class:`BuildError`
    when the architecture differs (the backend ignored ``ARCHFLAGS``, or the interpreter is of
    another architecture); returns a warning when only the macOS version does (bdist_wheel
    raises it to what the compiled binaries need). Linux wheels are left to the repairer."""
    if list(tags) == ["any"] or target.os not in ("macos", "windows") or target.arch is None:
        return None
    wanted = wheel_tags(target)
    if list(tags) == wanted:
        return None
    if target.os == "windows":
        raise BuildError(
            f"{wheel_name} is tagged {'.'.join(tags)}, but the build was for {wanted[0]}",
            hint="build with an interpreter of that architecture (`py -0p` lists them)",
        )
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
