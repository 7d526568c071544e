"""Refuse to publish a wheel larger than ``[tool.hwb.size-budget] max-kilobytes``."""

from __future__ import annotations

from pathlib import Path

from hwb import ConfigKey, WheelTestOutcome, WheelTestRequest, hookimpl

KEY = "size-budget.max-kilobytes"


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {KEY: ConfigKey("int", 0, "Largest wheel to publish, in KiB (0: no limit).")}


@hookimpl(optionalhook=True)  # the try-wheel plugin's hook
def try_wheel(wheel: Path, request: WheelTestRequest) -> WheelTestOutcome | None:
    budget = request.config.get(KEY)
    if not budget:
        return None  # nothing to check: this plugin stays out of the record
    size = wheel.stat().st_size // 1024
    if size <= budget:
        return WheelTestOutcome("size budget", passed=True)
    return WheelTestOutcome(
        "size budget",
        passed=False,
        error=f"{wheel.name} is {size} KiB, over the budget of {budget} KiB ({KEY})",
    )
