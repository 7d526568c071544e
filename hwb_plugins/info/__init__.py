"""Plugin ``info``: the commands that say what hwb sees, ``hwb plugins`` (every plugin, its
hooks and status, and the isolations in order of preference) and ``hwb pythons`` (every
interpreter the finders list)."""

from __future__ import annotations

import json
import sys
from typing import Any

from hwb import CommandLine, hookimpl


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

    records = list(pm.records.values())
    strategies = ordered(pm)
    if as_json:
        isolations = {
            info.name: {"summary": info.summary, "capabilities": info.capabilities.to_json()}
            for info in strategies
        }
        plugins = [r.to_json() for r in records]
        print(json.dumps({"plugins": plugins, "isolations": isolations}, indent=2))
        return
    rows = [("name", "status", "distribution", "hooks", "error")]
    for r in records:
        dist, version = r.distribution
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
            print(f"  {info.name:<{width}}  rank {caps.rank:<3} {caps.describe()}")


def print_pythons(found: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"pythons": [p.to_json() for p in found]}, indent=2))
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
