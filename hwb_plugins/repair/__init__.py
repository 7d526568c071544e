"""Plugin ``repair``: the repair stage of a build and of ``hwb repair``.

It answers the core's ``repair_stage`` hook: it reads ``[tool.hwb.repair]`` (``mode``,
``policy``, ``exclude``, ``lib-sdir``, ``strip``, and ``--no-repair``) and calls the
``repair_wheel`` hook as ``mode`` says (:mod:`hwb_plugins.repair.stage`), so the repairers
(auditwheel, delocate, delvewheel) and organizations' policies see every wheel. It also answers
``repair_wheel`` last, for a pure wheel. Blocking it (``hwb -p no:repair``) publishes the wheels
a build makes as built, with a warning, as ``--no-repair`` does; ``hwb repair`` then fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hwb import BuildEnv, CliOption, Config, ConfigKey, PythonInfo, RepairResult, Target, hookimpl

#: ``RepairResult.reason`` of a pure wheel.
PURE_WHEEL = "pure wheel: nothing to repair"


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    from hwb_plugins.repair.stage import KEYS

    return dict(KEYS)


@hookimpl(tryfirst=True)  # listed first in --help, where it stood as the core's
def cli_options(command: str) -> list[CliOption] | None:
    # Every command that builds takes --no-repair.
    return [
        CliOption(
            ("--no-repair",),
            "repair.mode",
            "Publish wheels as built, without repair (repair.mode = skip).",
            is_flag=True,
            flag_value="skip",
        )
    ]


@hookimpl
def repair_stage(
    session: Any,
    wheel: Path,
    env: BuildEnv | None,
    config: Config,
    python: PythonInfo | None,
    output_dir: Path,
    target: Target | None,
) -> RepairResult:
    from hwb_plugins.repair.stage import repair

    return repair(session, wheel, env, config, python, output_dir, target)


@hookimpl(trylast=True)
def repair_wheel(wheel: Path) -> RepairResult | None:
    """A pure wheel (platform ``any``) has nothing to repair. This plugin answers for it, after
    every repairer declined it, so that ``repairer`` stays ``None`` (no repairer acted) while
    policies still receive a result to examine."""
    from hwb.wheelfile import is_pure

    if is_pure(wheel):
        return RepairResult(path=wheel, repaired=False, repairer=None, reason=PURE_WHEEL)
    return None
