"""Plugin ``linux``: ``--platform`` read as ``OS[-ARCH]`` (``linux-aarch64``, ``linux/arm64``,
``windows``), for Linux targets above all, and this machine when it runs Linux.

It answers ``resolve_target`` last (``trylast``), after the plugins with rules of their own
(macOS, Windows) declined: a Linux target gets this machine's architecture when none is named;
a platform of another operating system than this machine's is an error (its wheels are built
there). Blocked, ``--platform`` names only what other plugins read, and a build without it is
for this machine.
"""

from __future__ import annotations

import dataclasses

from hwb import UsageError, hookimpl, host
from hwb.target import Target, parse_target


@hookimpl(trylast=True)
def resolve_target(asked: str | None) -> Target | None:
    here = host.host_os()
    if not asked:
        return Target("linux", host.host_arch("linux")) if here == "linux" else None
    target = parse_target(asked)
    if target.os != "linux" and target.os != here:
        raise UsageError(
            f"{host.pretty(target.os)} wheels are built on {host.pretty(target.os)}; this "
            f"machine runs {host.pretty(here)}",
            hint="build them on that system (hwb matrix skips them elsewhere), or leave "
            "--platform out",
        )
    if target.arch is None:
        return dataclasses.replace(target, arch=host.host_arch(target.os))
    return target
