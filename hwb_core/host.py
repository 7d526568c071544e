"""This machine, as the kernel needs it; the rest of the words for platforms and
architectures (``normalize_arch``, ``can_emulate``, ...) are the toolkit's, :mod:`hwb.host`.

    host_os()                    "linux", "macos", "windows" (else ``sys.platform``)
    host_arch("linux")           "x86_64", "aarch64": this machine, spelled as that platform's
                                 wheel tags spell it
    OCI_PLATFORMS["aarch64"]     "linux/arm64": how container engines name a Linux architecture

Tests change what the host is by monkeypatching :func:`host_os` and :func:`host_arch` here;
callers go through the module attribute (``host.host_os()``) so that they see the change.
"""

from __future__ import annotations

import platform as _platform
import sys

#: Other spellings of architectures, per platform (arm64 is aarch64 on Linux and the reverse on
#: macOS): ``platform.machine()``'s among them.
ARCH_ALIASES: dict[str, dict[str, str]] = {
    "linux": {
        "amd64": "x86_64",
        "x64": "x86_64",
        "arm64": "aarch64",
        "i386": "i686",
        "x86": "i686",
        "armv7": "armv7l",
        "arm": "armv7l",
    },
    "macos": {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"},
    "windows": {
        "amd64": "x86_64",
        "x64": "x86_64",
        "aarch64": "arm64",
        "i686": "x86",
        "i386": "x86",
        "win32": "x86",
    },
}

#: A container engine's ``--platform`` for each Linux architecture (an image of another
#: architecture runs under qemu when binfmt_misc has a handler for it).
OCI_PLATFORMS = {
    "x86_64": "linux/amd64",
    "aarch64": "linux/arm64",
    "i686": "linux/386",
    "armv7l": "linux/arm/v7",
    "ppc64le": "linux/ppc64le",
    "s390x": "linux/s390x",
    "riscv64": "linux/riscv64",
}


def host_os() -> str:
    """This machine's platform (``linux``, ``macos``, ``windows``) or
    ``sys.platform`` for anything else."""
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform in ("win32", "cygwin"):
        return "windows"
    return sys.platform


def host_arch(platform_name: str | None = None) -> str:
    """This machine's architecture, spelled as ``platform_name``'s wheel tags spell it."""
    name = platform_name or host_os()
    machine = _platform.machine().lower() or "x86_64"
    if name in ARCH_ALIASES:
        return ARCH_ALIASES[name].get(machine, machine)
    return machine


PRETTY = {"linux": "Linux", "macos": "macOS", "windows": "Windows"}


def pretty(os_name: str) -> str:
    """``"macos"`` -> ``"macOS"``, for messages."""
    return PRETTY.get(os_name, os_name)


def oci_platform(arch: str) -> str | None:
    """``"aarch64"`` -> ``"linux/arm64"``; ``None`` for an architecture no engine names."""
    return OCI_PLATFORMS.get(arch)
