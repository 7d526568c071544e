"""``hwb cache``: list and clear what plugins keep in hwb's cache directory.

Each plugin that keeps something there answers this plugin's own ``cache_areas`` hook
(:mod:`hwb_plugins.cache_command.hookspecs`): the venv isolation its cached build environments,
the container isolations their wheelhouse. This command knows none of them by name.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

from hwb import CommandLine, hookimpl

if TYPE_CHECKING:
    from hwb.cache import CacheArea


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def areas(pm: Any) -> list[CacheArea]:
    """Every plugin's areas, one per name, in the order the plugins answered."""
    found: dict[str, CacheArea] = {}
    for answer in pm.hook.cache_areas():
        for area in answer or ():
            found.setdefault(area.name, area)
    return list(found.values())


@hookimpl
def add_hookspecs(pm: Any) -> None:
    from hwb_plugins.cache_command import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl
def add_commands(cli: CommandLine) -> None:
    click = cli.click

    @cli.group.group()
    def cache() -> None:
        """What hwb keeps between builds (cached environments, the wheelhouse): list, clear."""

    @cache.command("list")
    @click.option(
        "--json",
        "as_json",
        is_flag=True,
        help='Print {"cache_dir": ..., "envs": [...], "wheelhouse": [...]} on stdout.',
    )
    @click.pass_context
    def list_entries(ctx: Any, as_json: bool) -> int:
        """List what is kept: key, size, age and what it is for, area by area."""
        from hwb.paths import cache_dir

        found = areas(ctx.obj["pm"])
        now = time.time()
        listing = {area.name: list(area.entries(now)) for area in found}
        total = sum(entry.size for entries in listing.values() for entry in entries)
        if as_json:
            document: dict[str, Any] = {"cache_dir": str(cache_dir())}
            document.update(
                {name: [dict(e.json) for e in entries] for name, entries in listing.items()}
            )
            document["total_size"] = total
            print(json.dumps(document, indent=2))
            return 0
        for area in found:
            entries = listing[area.name]
            if not entries:
                print(f"no {area.what} in {area.path}", file=sys.stderr)
                continue
            for entry in entries:
                print(f"{entry.key}  {human_size(entry.size):>9}  {entry.line}")
            size = sum(entry.size for entry in entries)
            print(
                f"{len(entries)} {area.what}, {human_size(size)}, in {area.path}", file=sys.stderr
            )
        return 0

    @cache.command("clear")
    @click.option(
        "--older-than",
        "older_than",
        type=float,
        metavar="DAYS",
        default=None,
        help="Only what was made (or, in the wheelhouse, downloaded) more than DAYS days ago.",
    )
    @click.option(
        "--json", "as_json", is_flag=True, help='Print {"removed": [...], "kept": [...]} on stdout.'
    )
    @click.pass_context
    def clear(ctx: Any, older_than: float | None, as_json: bool) -> int:
        """Remove what is kept (what a running build uses stays)."""
        from hwb import UsageError

        if older_than is not None and older_than < 0:
            raise UsageError(
                f"--older-than {older_than:g} is negative", hint="give a number of days, such as 7"
            )
        now = time.time()
        removed: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        freed = 0
        lines: list[str] = []
        for area in areas(ctx.obj["pm"]):
            results = list(area.clear(older_than, now))
            gone = [r for r in results if r.removed]
            size = sum(r.entry.size for r in gone)
            freed += size
            removed += [{**r.entry.json, "area": area.name} for r in gone]
            kept += [
                {**r.entry.json, "area": area.name, "reason": r.note}
                for r in results
                if not r.removed
            ]
            lines += [f"removed {r.entry.key} ({human_size(r.entry.size)})" for r in gone]
            lines += [f"kept {r.entry.key}: {r.note}" for r in results if not r.removed]
            lines.append(f"freed {human_size(size)} ({len(gone)} {area.what}) in {area.path}")
        if as_json:
            print(json.dumps({"removed": removed, "kept": kept, "freed": freed}, indent=2))
            return 0
        for line in lines:
            print(line, file=sys.stderr)
        return 0
