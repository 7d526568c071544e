"""Plugin ``info``: the commands that say what hwb sees, ``hwb plugins`` (every plugin, its
hooks and status, and the isolations in order of preference) and ``hwb pythons`` (every
interpreter the finders list)."""

from __future__ import annotations

import json
import sys
from typing import Any

from hwb import Capabilities, CommandLine, PythonInfo, hookimpl


@hookimpl
def add_commands(cli: CommandLine) -> None:
    click = cli.click

    @cli.group.command()
    @click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
    def plugins(as_json: bool) -> int:
        """List plugins: name, distribution, version, hooks, status and error."""
        print_plugins(cli.pm, as_json)
        return 0

    @cli.group.command()
    @click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
    @click.pass_context
    def pythons(ctx: Any, as_json: bool) -> int:
        """List every interpreter the finders see: version, implementation, ABI tag, whether it
        runs without the GIL (free-threaded), path and source."""
        from hwb.pythons import list_all

        session = cli.session(ctx)
        print_pythons(list_all(session.pm, session.config_for(None)), as_json)
        return 0


def print_plugins(pm: Any, as_json: bool) -> None:
    from hwb.isolation import ordered
    from hwb.records import distribution, plugin_json

    records = list(pm.records.values())
    strategies = ordered(pm)
    if as_json:
        isolations = {
            info.name: {
                "summary": info.summary,
                "capabilities": capabilities_json(info.capabilities),
            }
            for info in strategies
        }
        plugins = [plugin_json(r) for r in records]
        print(json.dumps({"plugins": plugins, "isolations": isolations}, indent=2))
        return
    rows = [("name", "status", "distribution", "hooks", "error")]
    for r in records:
        dist, version = distribution(r)
        dist_text = f"{dist} {version}" if dist and version else (dist or "")
        rows.append((r.name, r.status, dist_text, ", ".join(r.hooks), r.error or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        print("  ".join([*cells, row[4]]).rstrip())
    if strategies:
        print("\nisolations, most preferred first (isolation.preference, then rank):")
        width = max(len(info.name) for info in strategies)
        for info in strategies:
            caps = info.capabilities
            print(f"  {info.name:<{width}}  rank {caps.rank:<3} {describe(caps)}")


def print_pythons(found: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"pythons": [python_json(p) for p in found]}, indent=2))
        return
    width = max((len(p.version) for p in found), default=7)
    abi = max((len(p.abi_tag) for p in found), default=7)
    if found:
        print(f"{'VERSION':<{width}}  {'IMPL':<8} {'ABI':<{abi}} GIL {'SOURCE':<7} PATH")
    for p in found:
        gil = "off" if p.free_threaded else "on"
        print(
            f"{p.version:<{width}}  {p.implementation:<8} {p.abi_tag:<{abi}} {gil:<3} "
            f"{p.source:<7} {p.path}"
        )
    if not found:
        print(
            "no interpreters found; install one with `uv python install 3.12` or pyenv",
            file=sys.stderr,
        )


def python_json(python: PythonInfo) -> dict[str, Any]:
    """One interpreter of ``hwb pythons --json``."""
    return {
        "version": python.version,
        "implementation": python.implementation,
        "abi_tag": python.abi_tag,
        "free_threaded": python.free_threaded,
        "platform_tag": python.platform_tag,
        "path": python.path,
        "source": python.source,
    }


def capabilities_json(caps: Capabilities) -> dict[str, Any]:
    """A strategy's capabilities, as ``hwb plugins --json`` prints them."""
    return {
        "native": caps.native,
        "isolated": caps.isolated,
        "container": caps.container,
        "linux": list(caps.linux),
        "architectures": list(caps.architectures),
        "emulation": caps.emulation,
        "target_key": caps.target_key,
        "family_keys": dict(caps.family_keys),
        "image_key": caps.image_key,
        "hosts_key": caps.hosts_key,
        "host_key": caps.host_key,
        "rank": caps.rank,
    }


def describe(caps: Capabilities) -> str:
    """A strategy's capabilities in one line of ``hwb plugins``."""
    parts = []
    if caps.native:
        parts.append("native")
    if caps.container:
        parts.append("container")
    if not caps.isolated:
        parts.append("not isolated")
    if caps.linux:
        parts.append("/".join(caps.linux))
    if caps.architectures:
        parts.append(",".join(caps.architectures) + (" (emulated)" if caps.emulation else ""))
    if caps.target_key:
        parts.append(f"target: {caps.target_key}")
    return "; ".join(parts) or "-"
