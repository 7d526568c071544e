"""The repair stage: ``[tool.hwb.repair] mode`` around the ``repair_wheel`` hook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hwb import (
    Config,
    ConfigKey,
    PolicyViolation,
    PythonInfo,
    RepairError,
    RepairResult,
    Target,
    repair_request,
)

# Read by this stage and handed to repairers and policies in RepairRequest (hwb.repair_request).
KEYS: dict[str, ConfigKey] = {
    "repair.mode": ConfigKey(
        "str",
        "auto",
        "auto: a failed repair fails the build; warn: publish the wheel as built, with a warning; "
        "skip: do not repair (--no-repair).",
        choices=("auto", "skip", "warn"),
    ),
    "repair.policy": ConfigKey(
        "str",
        None,
        "Platform policy to repair to: manylinux_2_28, manylinux2014, musllinux_1_2 (the "
        "architecture is optional); default: the most compatible one the wheel meets.",
    ),
    "repair.exclude": ConfigKey(
        "list",
        [],
        "Libraries never to bundle, as shell-style patterns of their names (libcuda.so.*).",
    ),
    "repair.lib-sdir": ConfigKey(
        "str",
        None,
        "Where bundled libraries go in the wheel (default: the repairer's, .libs for auditwheel).",
    ),
    "repair.strip": ConfigKey(
        "bool", False, "Strip debugging symbols from bundled libraries and extensions."
    ),
}


def repair(
    session: Any,
    wheel: Path,
    env: Any,
    config: Config,
    python: PythonInfo | None,
    output_dir: Path,
    target: Target | None = None,
) -> RepairResult:
    """Run the ``repair_wheel`` hook as ``[tool.hwb.repair] mode`` says: ``skip`` does not call
    it; ``warn`` turns a failed repair (not a policy's refusal) into a warning and keeps the
    wheel as built; ``auto`` lets the error through, so nothing is published."""
    mode = config.get("repair.mode")
    if mode == "skip":
        return RepairResult(
            path=wheel,
            repaired=False,
            reason=f"repair skipped (repair.mode = skip, from {config.source('repair.mode')})",
        )
    request = repair_request(session, config, python, output_dir, target)
    try:
        result: RepairResult | None = session.pm.hook.repair_wheel(
            wheel=wheel, env=env, request=request
        )
    except PolicyViolation:
        raise
    except RepairError as exc:
        if mode != "warn":
            raise
        session.reporter.warn(
            f"{exc.one_line()}; publishing {wheel.name} unrepaired (repair.mode = warn)"
        )
        return RepairResult(path=wheel, repaired=False, reason=f"repair failed: {exc.message}")
    if result is None:
        return RepairResult(path=wheel, repaired=False, reason="no repairer handles this wheel")
    return result
