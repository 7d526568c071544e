"""What a build is for: the :class:`Target` (the kernel's type), and ``--platform`` text read
as one, for plugins answering ``resolve_target``.

    parse_target("linux-arm64")   Target("linux", "aarch64", asked=True)
    parse_arch("macos", "aarch64", text)   "arm64"
"""

from __future__ import annotations

import re

from hwb import host
from hwb_core.errors import UsageError
from hwb_core.target import TARGET_KEY, Target

__all__ = ["HINT", "TARGET_KEY", "Target", "parse_arch", "parse_target"]

HINT = (
    "write it like macos, macosx-11.0-universal2, macos-arm64, windows, win-amd64, win-arm64 "
    "or linux-x86_64"
)
_OTHER = re.compile(r"(?P<os>[a-z0-9]+?)(?:[-_](?P<arch>[a-z0-9_]+))?")


def parse_target(text: str) -> Target:
    """``--platform`` text as an unresolved :class:`Target`: ``OS`` or ``OS-ARCH`` in any
    spelling :mod:`hwb.host` knows (``linux-arm64``, ``windows``), or a container
    engine's platform (``linux/arm64``). Plugins parse their own richer forms first."""
    raw = text.strip().lower()
    if not raw:
        raise UsageError("--platform is empty", hint=HINT)
    refused = host.not_buildable(raw)
    if refused is not None:
        raise refused
    oci_arch = host.arch_of_oci_platform(raw)
    if oci_arch:
        return Target("linux", oci_arch, asked=True)
    other = _OTHER.fullmatch(raw)
    if other is None:
        raise UsageError(f"unknown platform {text.strip()!r}", hint=HINT)
    try:
        os_name = host.normalize_platform(other.group("os"))
    except UsageError:
        raise UsageError(f"unknown platform {text.strip()!r}", hint=HINT) from None
    return Target(os_name, parse_arch(os_name, other.group("arch"), text), asked=True)


def parse_arch(os_name: str, word: str | None, text: str) -> str | None:
    """An architecture of ``--platform TEXT`` in its platform's spelling (``None`` if none)."""
    if not word:
        return None
    try:
        return host.normalize_arch(os_name, word)
    except UsageError as exc:
        raise UsageError(f"--platform {text.strip()!r}: {exc.message}", hint=exc.hint) from None
