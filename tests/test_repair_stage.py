"""The repair stage is the ``repair`` plugin on the core's ``repair_stage`` hook: the core
declares no ``repair.*`` key and never calls ``repair_wheel`` itself; the plugin runs the
repairers as ``[tool.hwb.repair] mode`` says, for builds and ``hwb repair`` alike (both through
the hook); blocked, a build publishes its wheel as built with one warning line and ``hwb
repair`` is a usage error."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from hwb import repair
from hwb_core import defaults
from hwb_core.config import load_config
from hwb_core.errors import RepairError, UsageError
from hwb_core.plugins import PluginManager
from tests.conftest import assert_clean_error, json_out
from tests.plugins.backends import tiny_project

Run = Callable[..., subprocess.CompletedProcess[str]]

FAILING_REPAIRER = """
from hwb import RepairError, hookimpl

CALLS = []

@hookimpl
def repair_wheel(wheel, env, request):
    CALLS.append(wheel.name)
    raise RepairError("the fake tool broke")
"""


class Warnings:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def warn(self, message: str) -> None:
        self.lines.append(message)


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``run(mode)``: an extension wheel through :func:`hwb.repair` with the repair plugin and
    a repairer that always fails; returns (result or exception, the repairer's calls, warnings)."""
    (tmp_path / "failing_repairer.py").write_text(FAILING_REPAIRER, encoding="utf-8")
    pm = PluginManager()
    pm.load_core()
    pm.load_project_plugins(tmp_path, ["hwb_plugins.repair", "failing_repairer"])
    wheel = tmp_path / "demo-1.0-cp312-cp312-linux_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")

    def run(mode: str) -> tuple[Any, list[str], list[str]]:
        calls = sys.modules["failing_repairer"].CALLS
        calls.clear()
        reporter = Warnings()
        session = SimpleNamespace(pm=pm, reporter=reporter)
        config = load_config(pm.schema(), tool_hwb={"repair": {"mode": mode}})
        try:
            outcome: Any = repair(session, wheel, None, config, None, tmp_path / "out" / mode)
        except RepairError as exc:
            outcome = exc
        return outcome, list(calls), reporter.lines

    yield run
    sys.modules.pop("failing_repairer", None)


def test_the_core_declares_no_repair_setting_and_no_repairer() -> None:
    assert not [key for key in defaults.config_schema() if key.startswith("repair.")]
    assert not hasattr(defaults, "repair_wheel")
    assert "--no-repair" not in [f for o in defaults.cli_options("build") or [] for f in o.flags]
    pm = PluginManager()
    pm.load_core()
    assert pm.hook.repair_stage.spec.opts["firstresult"]


def test_mode_auto_lets_a_failed_repair_through(stage: Callable[..., Any]) -> None:
    outcome, calls, warnings = stage("auto")
    assert isinstance(outcome, RepairError) and "the fake tool broke" in str(outcome)
    assert calls == ["demo-1.0-cp312-cp312-linux_x86_64.whl"] and warnings == []


def test_mode_warn_publishes_unrepaired_with_a_warning(stage: Callable[..., Any]) -> None:
    outcome, _, warnings = stage("warn")
    assert (outcome.repaired, outcome.reason) == (False, "repair failed: the fake tool broke")
    assert (
        len(warnings) == 1
        and "publishing demo-1.0-cp312-cp312-linux_x86_64.whl unrepaired" in warnings[0]
    )


def test_mode_skip_calls_no_repairer(stage: Callable[..., Any]) -> None:
    outcome, calls, warnings = stage("skip")
    assert calls == [] and warnings == [] and not outcome.repaired
    assert outcome.reason.startswith("repair skipped (repair.mode = skip, from ")


def test_hwb_repair_without_the_stage_is_a_usage_error(tmp_path: Path) -> None:
    pm = PluginManager(blocked=["repair"])
    pm.load_core()
    session = SimpleNamespace(pm=pm, reporter=Warnings())
    config = load_config(pm.schema())
    with pytest.raises(
        UsageError, match=r"no plugin repairs wheels \(the repair plugin is blocked\)"
    ):
        repair(session, tmp_path / "x-1.0-py3-none-any.whl", None, config, None, tmp_path)


def test_a_build_with_the_repair_plugin_blocked_publishes_as_built_with_one_warning(
    run_hwb: Run, tmp_path: Path
) -> None:
    project = tiny_project(tmp_path / "proj")
    out = tmp_path / "out"
    result = run_hwb(
        "-p", "no:repair", "build", str(project), "-o", str(out), "--isolation", "none", "--json"
    )
    [record] = json_out(result)["wheels"]
    assert (out / record["filename"]).is_file()
    assert (record["repaired"], record["repairer"]) == (False, None)
    assert record["repair_note"] == "not repaired: no plugin repairs wheels"
    warnings = [line for line in result.stderr.splitlines() if "no plugin repairs wheels" in line]
    assert warnings == [
        "warning: no plugin repairs wheels (the repair plugin is blocked); "
        f"publishing {record['filename']} as built"
    ], result.stderr
    assert "Traceback" not in result.stderr


def test_hwb_repair_with_the_repair_plugin_blocked_is_a_clean_usage_error(
    run_hwb: Run, tmp_path: Path
) -> None:
    wheel = tmp_path / "tiny-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("tiny-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    result = run_hwb("-p", "no:repair", "repair", str(wheel), "-o", str(tmp_path / "wh"))
    error = assert_clean_error(result, 2)
    assert "no plugin repairs wheels (the repair plugin is blocked)" in error
    assert not (tmp_path / "wh").exists()
