"""What a build and its plugins say of themselves in JSON: ``hwb build --json``'s wheels,
``hwb plugins --json``, the test record of ``hwb matrix`` and of a provenance record.

:func:`result_json` is a :class:`~hwb.BuildResult` as ``--json`` prints it, :func:`test_record`
its checks summed up, :func:`loaded_plugins` the plugins that made it; :func:`distribution`
is the distribution (and version) that provides a plugin, and :func:`plugin_json` a plugin's
record (``pm.records``) as ``hwb plugins --json`` prints it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hwb_core import entry_points
from hwb_core.interfaces import BuildResult
from hwb_core.plugins import ENTRY_POINT_GROUP, PluginRecord

if TYPE_CHECKING:
    from hwb_core.pipeline import Session

__all__ = [
    "distribution",
    "loaded_plugins",
    "plugin_json",
    "report_failures",
    "result_json",
    "test_record",
]


def result_json(result: BuildResult) -> dict[str, Any]:
    """One wheel of ``hwb build --json``."""
    return {
        "path": str(result.path),
        "filename": result.path.name,
        "python": result.python.version,
        "python_path": result.python.path or None,
        "python_source": result.python.source,
        "isolation": result.isolation,
        "isolation_reason": result.isolation_reason,
        "repaired": result.repair.repaired,
        "repairer": result.repair.repairer,
        "policy": result.repair.policy,
        "bundled": list(result.repair.bundled),
        "repair_note": result.repair.reason,
        "checked_by": list(result.repair.checked_by),
        "duration_s": round(result.duration_s, 3),
        "log": str(result.log) if result.log else None,
        "test": test_record(result),
        "source_date_epoch": result.source_date_epoch,
        "files": [str(path) for path in result.files],
        "reproducible": result.reproducible.to_json() if result.reproducible else None,
    }


def test_record(result: BuildResult) -> dict[str, Any] | None:
    """``--json``'s ``test``: every check's outcome, summed up; ``None`` when none ran."""
    if not result.tests:
        return None
    ran = [t for t in result.tests if not t.skipped]
    return {
        "command": "; ".join(t.command for t in ran if t.command) or None,
        "passed": all(t.passed for t in result.tests),
        "skipped": None if ran else "; ".join(t.skipped for t in result.tests),
        "duration_s": round(sum(t.duration_s for t in result.tests), 3),
        "log": str(result.log) if result.log else None,
        "checks": [t.to_json() for t in result.tests],
    }


def loaded_plugins(result: BuildResult) -> list[dict[str, Any]]:
    """The plugins loaded for the build: ``{"name", "distribution", "version"}`` each (their
    distributions are looked up when asked: a build that records nothing pays nothing for it)."""
    found = []
    for record in result.plugin_records:
        dist, version = distribution(record)
        found.append({"name": record.name, "distribution": dist, "version": version})
    return found


def plugin_json(record: PluginRecord) -> dict[str, Any]:
    """One plugin of ``hwb plugins --json``."""
    dist, version = distribution(record)
    return {
        "name": record.name,
        "module": record.target,
        "origin": record.origin,
        "distribution": dist,
        "version": version,
        "status": record.status,
        "hooks": list(record.hooks),
        "error": record.error,
    }


def report_failures(session: Session) -> None:
    """Warn of every plugin that failed to load, as a command starts."""
    for record in session.pm.failures():
        session.reporter.warn(
            f"plugin {record.name!r} ({record.target}) failed to load: {record.error}"
        )


def distribution(record: PluginRecord) -> tuple[str | None, str | None]:
    """``(name, version)`` of the distribution that provides the plugin, when known."""
    return _distribution_of(record.target, record.origin)


@functools.cache
def _entry_point_dists(group: str) -> dict[str, tuple[str, str]]:
    """``{entry point value: (distribution, version)}`` of ``group``, from the listing
    remembered between runs (:mod:`hwb_core.entry_points`): no scan on a warm start."""
    return entry_points.owners(group)


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    from importlib import metadata

    return metadata.packages_distributions()


def _distribution_of(target: str, origin: str) -> tuple[str | None, str | None]:
    if origin == "project":
        return ("(project)", None)
    if origin == "entry-point" and target:
        # The entry point knows its distribution, also for editable installs, whose modules
        # packages_distributions() cannot map.
        if target in _entry_point_dists(ENTRY_POINT_GROUP):
            return _entry_point_dists(ENTRY_POINT_GROUP)[target]
    top = target.split(":")[0].split(".")[0]
    if origin == "core":
        # The distribution whose `hwb` command runs hwb_core: no scan of every package's files.
        for value, dist in _entry_point_dists("console_scripts").items():
            if value.split(":")[0].split(".")[0] == "hwb_core":
                return dist
        top = "hwb_core"
    names = _packages_distributions().get(top, [])
    if not names:
        return (None, None)
    from importlib import metadata

    try:
        return (names[0], metadata.version(names[0]))
    except metadata.PackageNotFoundError:
        return (names[0], None)
