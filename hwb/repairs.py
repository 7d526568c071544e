"""Repairing a wheel the way a build does, for commands (``hwb repair``): :func:`repair` runs
the ``repair_stage`` hook (the ``repair`` plugin: ``[tool.hwb.repair]`` around the repairers
and organizations' policies), and :func:`repair_request` is the request they receive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hwb_core import wheelfile
from hwb_core.config import Config
from hwb_core.errors import UsageError
from hwb_core.interfaces import PythonInfo, RepairRequest, RepairResult
from hwb_core.target import Target


def repair_request(
    session: Any,
    config: Config,
    python: PythonInfo | None,
    output_dir: Path,
    target: Target | None = None,
) -> RepairRequest:
    """The request repairers and policies receive, from ``[tool.hwb.repair]``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    policy = config.get("repair.policy")
    return RepairRequest(
        config=config,
        reporter=session.reporter,
        output_dir=output_dir,
        python=python,
        policy=None if policy in (None, "", "auto") else policy,
        exclude=list(config.get("repair.exclude") or []),
        lib_sdir=config.get("repair.lib-sdir") or None,
        strip=bool(config.get("repair.strip")),
        target=target,
        source_date_epoch=wheelfile.current(),
    )


def repair(
    session: Any,
    wheel: Path,
    env: Any,
    config: Config,
    python: PythonInfo | None,
    output_dir: Path,
    *,
    target: Target | None = None,
) -> RepairResult:
    """Take ``wheel`` through the ``repair_stage`` hook, as a build does (``env=None``: on the
    host). With no plugin to answer it (the ``repair`` plugin blocked), a :class:`UsageError`."""
    result: RepairResult | None = session.pm.hook.repair_stage(
        session=session,
        wheel=wheel,
        env=env,
        config=config,
        python=python,
        output_dir=output_dir,
        target=target,
    )
    if result is None:
        raise _no_stage()
    return result


def check_repair_stage(session: Any) -> None:
    """Raise :class:`UsageError` unless a plugin answers ``repair_stage`` (the ``repair``
    plugin, and with it ``[tool.hwb.repair]``, may be blocked)."""
    if not session.pm.hook.repair_stage.get_hookimpls():
        raise _no_stage()


def _no_stage() -> UsageError:
    return UsageError(
        "no plugin repairs wheels (the repair plugin is blocked)",
        hint="unblock it (hwb plugins lists the blocked ones)",
    )
