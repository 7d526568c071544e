"""Running ``abi3audit`` on a wheel and turning its report into a verdict.

abi3audit is run as a command (``python -m abi3audit --report WHEEL``), never imported, and
only its JSON report is read. Where it runs follows the auditwheel repairer: on the host with
hwb's own interpreter (it is one of hwb's dependencies, pinned), after venv and none builds
and for ``hwb repair``; inside the build environment (``env.install`` of :data:`REQUIREMENT`,
paths through ``env.env_path``) when that environment is not the host, as long as its
interpreter can run abi3audit (:data:`MIN_PYTHON`); otherwise on the host, which reads the
same wheel file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from hwb import (
    BuildEnv,
    BuildError,
    PolicyViolation,
    RepairError,
    RepairRequest,
    RunResult,
    process,
)

#: Kept in step with hwb's own dependency in pyproject.toml.
REQUIREMENT = "abi3audit==0.0.26"
#: The oldest interpreter that release runs on.
MIN_PYTHON = (3, 10)


def audit(wheel: Path, env: BuildEnv | None, request: RepairRequest, warn_only: bool) -> None:
    """Audit ``wheel``: return when it keeps to the stable ABI its tag names; else raise
    :class:`PolicyViolation` (or warn, with ``warn_only``) naming the offending symbols."""
    reporter = request.reporter
    in_env = (
        env is not None
        and not env.on_host
        and env.python.implementation == "cpython"
        and env.python.version_tuple >= MIN_PYTHON
    )
    where = f"in the build environment ({env.describe()})" if in_env and env else "on this machine"
    reporter.step(f"auditing {wheel.name} with abi3audit {where}")
    # The report goes to a file: the command's output reaches hwb as a tail of short lines.
    request.output_dir.mkdir(parents=True, exist_ok=True)
    report_file = request.output_dir / f"{wheel.stem}.abi3audit.json"
    report_file.unlink(missing_ok=True)
    try:
        if in_env and env:
            done = _run_in_env(wheel, report_file, env)
        else:
            done = _run_on_host(wheel, report_file, request)
        report = _report(report_file)
    finally:
        report_file.unlink(missing_ok=True)
    if report is None:
        raise RepairError(
            f"abi3audit could not audit {wheel.name}",
            hint='run again with -v to see its output; or set [tool.hwb.repair] abi3-audit = "off"',
            details=done.output,
        )
    problems = findings(report)
    if not problems:
        reporter.info(f"abi3audit: {wheel.name} keeps to the stable ABI")
        return
    message = f"{wheel.name} is tagged abi3 but " + "; ".join(problems)
    if warn_only:
        reporter.warn(f'{message} (published: [tool.hwb.repair] abi3-audit = "warn")')
        return
    raise PolicyViolation(
        message,
        hint="call only the stable ABI of the version in the wheel's tag, or build one wheel "
        'per Python without py_limited_api; [tool.hwb.repair] abi3-audit = "warn" publishes it '
        "anyway",
        details=done.output,
    )


def findings(report: dict[str, Any]) -> list[str]:
    """What abi3audit's JSON report finds, one phrase per extension module: the symbols outside
    the stable ABI, and those of a stable ABI newer than the baseline the tag names."""
    problems: list[str] = []
    for spec in (report.get("specs") or {}).values():
        for ext in spec.get("wheel") or [spec] if isinstance(spec, dict) else []:
            result = ext.get("result") or {}
            name = str(ext.get("name") or "an extension")
            outside = sorted(str(s) for s in result.get("non_abi3_symbols") or [])
            newer = result.get("future_abi3_objects") or {}
            baseline = result.get("baseline") or "its tag's version"
            parts = []
            if outside:
                parts.append(f"{name} uses {', '.join(outside)}, outside the stable ABI")
            if newer:
                listed = ", ".join(f"{sym} (since {ver})" for sym, ver in sorted(_pairs(newer)))
                parts.append(f"{name} uses {listed}, newer than the stable ABI of {baseline}")
            problems += parts
    return problems


def _pairs(newer: Any) -> list[tuple[str, str]]:
    if isinstance(newer, dict):
        return [(str(k), str(v)) for k, v in newer.items()]
    return [(str(item), "a later version") for item in newer]


def _report(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "specs" in data else None


def _run_on_host(wheel: Path, report: Path, request: RepairRequest) -> RunResult:
    import importlib.util

    if importlib.util.find_spec("abi3audit") is None:
        raise RepairError(
            f"abi3audit is not installed beside hwb ({sys.executable})",
            hint=f"install it there: {sys.executable} -m pip install '{REQUIREMENT}' (or "
            'set [tool.hwb.repair] abi3-audit = "off")',
        )
    return process.run(
        [sys.executable, "-m", "abi3audit", "--report", "--output", str(report), str(wheel)],
        reporter=request.reporter,
        check=False,
    )


def _run_in_env(wheel: Path, report: Path, env: BuildEnv) -> RunResult:
    try:
        env.install([REQUIREMENT])
        return env.run(
            [
                env.python_executable,
                "-m",
                "abi3audit",
                "--report",
                "--output",
                env.env_path(report),
                env.env_path(wheel),
            ],
            check=False,
        )
    except BuildError as exc:
        raise RepairError(
            f"could not run abi3audit in the build environment: {exc.message}",
            hint=exc.hint,
            details=exc.details,
        ) from None
