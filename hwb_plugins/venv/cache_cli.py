"""``hwb cache``: the build environments kept by ``cache-envs`` (docs/caching.md)."""

from __future__ import annotations

import json
import sys
import time

from hwb_core.interfaces import CommandLine


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def human_age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def register(cli: CommandLine) -> None:
    click = cli.click

    @cli.group.group()
    def cache() -> None:
        """Build environments kept for reuse (--cache-envs): list and clear them."""

    @cache.command("list")
    @click.option(
        "--json", "as_json", is_flag=True, help='Print {"cache_dir": ..., "envs": [...]} on stdout.'
    )
    def list_envs(as_json: bool) -> int:
        """List cached build environments: key, interpreter, requirements, size, age, last use."""
        from hwb_plugins.venv import cache as envcache

        now = time.time()
        found = envcache.entries()
        if as_json:
            print(
                json.dumps(
                    {
                        "cache_dir": str(envcache.envs_dir()),
                        "envs": [entry.to_json(now) for entry in found],
                        "total_size": sum(entry.size for entry in found),
                    },
                    indent=2,
                )
            )
            return 0
        if not found:
            print(f"no cached build environments in {envcache.envs_dir()}", file=sys.stderr)
            return 0
        for entry in found:
            age = None if entry.created is None else now - entry.created
            used = None if entry.last_used is None else now - entry.last_used
            state = "" if entry.state == "ok" else f"  [{entry.state}]"
            print(
                f"{entry.key}  {human_size(entry.size):>9}  age {human_age(age):>7}  "
                f"used {human_age(used):>7} ago  {entry.python}{state}"
            )
            if entry.requirements:
                print("    " + ", ".join(entry.requirements))
        total = sum(entry.size for entry in found)
        print(
            f"{len(found)} environments, {human_size(total)}, in {envcache.envs_dir()}",
            file=sys.stderr,
        )
        return 0

    @cache.command("clear")
    @click.option(
        "--older-than",
        "older_than",
        type=float,
        metavar="DAYS",
        default=None,
        help="Only environments made more than DAYS days ago.",
    )
    @click.option(
        "--json", "as_json", is_flag=True, help='Print {"removed": [...], "kept": [...]} on stdout.'
    )
    def clear(older_than: float | None, as_json: bool) -> int:
        """Remove cached build environments (those in use by a running build are kept)."""
        from hwb_core.errors import UsageError
        from hwb_plugins.venv import cache as envcache

        if older_than is not None and older_than < 0:
            raise UsageError(
                f"--older-than {older_than:g} is negative", hint="give a number of days, such as 7"
            )
        now = time.time()
        results = envcache.clear(older_than, now=now)
        removed = [r for r in results if r.removed]
        kept = [r for r in results if not r.removed]
        freed = sum(r.entry.size for r in removed)
        if as_json:
            print(
                json.dumps(
                    {
                        "removed": [r.entry.to_json(now) for r in removed],
                        "kept": [{**r.entry.to_json(now), "reason": r.note} for r in kept],
                        "freed": freed,
                    },
                    indent=2,
                )
            )
            return 0
        for r in removed:
            print(f"removed {r.entry.key} ({human_size(r.entry.size)})", file=sys.stderr)
        for r in kept:
            print(f"kept {r.entry.key}: {r.note}", file=sys.stderr)
        print(
            f"freed {human_size(freed)} ({len(removed)} environments) in {envcache.envs_dir()}",
            file=sys.stderr,
        )
        return 0
