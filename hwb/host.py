"""The words for platforms and architectures, and this machine: one place for both.

    host_os()                    "linux", "macos", "windows" (else ``sys.platform``)
    host_arch("linux")           "x86_64", "aarch64": this machine, spelled as that platform's
                                 wheel tags spell it
    normalize_arch("linux", "arm64")  -> "aarch64"
    not_buildable("pyodide")     why a platform hwb knows of cannot be built here (or None)
    OCI_PLATFORMS["aarch64"]     "linux/arm64": how container engines name a Linux architecture
    can_emulate("aarch64")       True when binfmt_misc runs that architecture's binaries (qemu)

What the kernel needs of this machine is :mod:`hwb_core.host`'s; :func:`host_os` and
:func:`host_arch` here ask it each time, so that tests monkeypatching it change both.
"""

from __future__ import annotations

from pathlib import Path

from hwb_core import host as _host
from hwb_core.errors import UsageError
from hwb_core.host import (
    ARCH_ALIASES,
    OCI_PLATFORMS,
    PRETTY,
    oci_platform,
    pretty,
)

__all__ = [
    "ARCHITECTURES",
    "ARCH_ALIASES",
    "NOT_BUILDABLE",
    "OCI_PLATFORMS",
    "PLATFORMS",
    "PRETTY",
    "QEMU_HANDLERS",
    "arch_of_oci_platform",
    "can_emulate",
    "host_arch",
    "host_os",
    "normalize_arch",
    "normalize_platform",
    "not_buildable",
    "oci_platform",
    "pretty",
    "runs_natively",
]


# What an x86_64 machine runs without emulation.
_NATIVE_EXTRA = {"x86_64": {"i686"}}


def runs_natively(host: str, arch: str) -> bool:
    """Whether an ``host`` machine runs ``arch`` Linux binaries without emulation."""
    return arch == host or arch in _NATIVE_EXTRA.get(host, set())


def host_os() -> str:
    """This machine's platform (``linux``, ``macos``, ``windows``) or ``sys.platform``."""
    return _host.host_os()


def host_arch(platform_name: str | None = None) -> str:
    """This machine's architecture, spelled as ``platform_name``'s wheel tags spell it."""
    return _host.host_arch(platform_name)


PLATFORMS = ("linux", "macos", "windows")

_PLATFORM_ALIASES = {
    "linux": "linux",
    "macos": "macos",
    "macosx": "macos",
    "darwin": "macos",
    "osx": "macos",
    "mac": "macos",
    "windows": "windows",
    "win": "windows",
    "win32": "windows",
    "win-amd64": "windows",
}

#: Architectures each platform builds for, in the names its wheel tags use.
ARCHITECTURES: dict[str, tuple[str, ...]] = {
    "linux": ("x86_64", "aarch64", "i686", "armv7l", "ppc64le", "s390x", "riscv64"),
    "macos": ("x86_64", "arm64", "universal2"),
    "windows": ("x86_64", "arm64", "x86"),
}

#: The binfmt_misc handler that runs an architecture's binaries on another one.
QEMU_HANDLERS = {
    "aarch64": "qemu-aarch64",
    "armv7l": "qemu-arm",
    "ppc64le": "qemu-ppc64le",
    "s390x": "qemu-s390x",
    "riscv64": "qemu-riscv64",
}

#: Platforms people build wheels for whose toolchains come from outside any package index
#: (Emscripten and Pyodide's cross-build environment, Apple's iOS SDK, Android's NDK): asked
#: for, they get a plain answer instead of "unknown platform". Keys are the first word of a
#: platform or wheel tag (``pyodide_2024_0_wasm32``, ``ios_13_0_arm64_iphoneos``).
NOT_BUILDABLE = {
    "pyodide": ("Pyodide", "Emscripten and Pyodide's cross-build environment"),
    "emscripten": ("Pyodide", "Emscripten and Pyodide's cross-build environment"),
    "wasm32": ("Pyodide", "Emscripten and Pyodide's cross-build environment"),
    "ios": ("iOS", "Apple's iOS SDK (Xcode, on a Mac) and an iOS build of Python"),
    "iphoneos": ("iOS", "Apple's iOS SDK (Xcode, on a Mac) and an iOS build of Python"),
    "iphonesimulator": ("iOS", "Apple's iOS SDK (Xcode, on a Mac) and an iOS build of Python"),
    "android": ("Android", "Android's NDK and an Android build of Python"),
}


def not_buildable(text: str) -> UsageError | None:
    """The error for a platform hwb cannot build here (Pyodide, iOS, Android), else ``None``."""
    import re

    word = re.split(r"[-_/.\s]", text.strip().lower(), maxsplit=1)[0]
    known = NOT_BUILDABLE.get(word)
    if known is None:
        return None
    name, toolchain = known
    return UsageError(
        f"{name} wheels cannot be built here: they need {toolchain}, which come from outside "
        "any package index",
        hint="build them where that toolchain is installed (cibuildwheel supports it); hwb "
        "builds for " + ", ".join(PLATFORMS),
    )


def normalize_platform(text: str) -> str:
    name = _PLATFORM_ALIASES.get(text.strip().lower())
    if name is None:
        refused = not_buildable(text)
        if refused is not None:
            raise refused
        raise UsageError(
            f"unknown platform {text.strip()!r}",
            hint="choose from: " + ", ".join(PLATFORMS),
        )
    return name


def normalize_arch(platform_name: str, text: str) -> str:
    raw = text.strip().lower()
    arch = ARCH_ALIASES.get(platform_name, {}).get(raw, raw)
    if arch not in ARCHITECTURES.get(platform_name, ()):
        raise UsageError(
            f"unknown {platform_name} architecture {text.strip()!r}",
            hint="choose from: " + ", ".join(ARCHITECTURES.get(platform_name, ())),
        )
    return arch


def can_emulate(arch: str) -> bool:
    """Whether binfmt_misc has an enabled qemu handler for ``arch`` (Linux only)."""
    handler = QEMU_HANDLERS.get(arch)
    if handler is None:
        return False
    try:
        text = Path("/proc/sys/fs/binfmt_misc", handler).read_text()
    except OSError:
        return False
    return text.splitlines()[0].strip() == "enabled" if text else False


def arch_of_oci_platform(text: str) -> str | None:
    """``"linux/arm64"`` -> ``"aarch64"``; ``None`` when ``text`` is not such a platform."""
    return {v: k for k, v in OCI_PLATFORMS.items()}.get(text.strip().lower())
