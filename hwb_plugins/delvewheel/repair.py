"""``delvewheel repair`` for one Windows wheel: arguments, running it, and what it did.

delvewheel is run as a command with hwb's own interpreter (``python -m delvewheel``), on the
Windows host: it finds DLLs the way Windows loads them (the wheel's directories, ``--add-path``,
``PATH``, the system directories), so it must run where they are.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

from hwb import BuildEnv, Config, RepairError, RepairRequest, RepairResult, host, process, wheelfile
from hwb.repairtool import ToolOutput
from hwb_plugins.delvewheel import NAME, PREFIX

#: The delvewheel releases hwb drives (kept in step with pyproject.toml).
REQUIREMENT = "delvewheel>=1.7"
# delvewheel renames a bundled DLL NAME.dll to NAME-<hash>.dll ("name mangling").
_MANGLED = re.compile(r"^(?P<stem>.+)-[0-9a-f]{8,64}(?P<ext>\.dll)$", re.I)


def repair(wheel: Path, env: BuildEnv | None, request: RepairRequest) -> RepairResult:
    check_host(wheel, env)
    out = request.output_dir
    tool_output = ToolOutput(out)
    args = delvewheel_args(wheel, out, request)
    request.reporter.step(f"repairing {wheel.name} with delvewheel")
    result = process.run(
        [sys.executable, "-m", "delvewheel", *(str(a) for a in args)],
        reporter=request.reporter,
        env=dict(os.environ),
        check=False,
    )
    if result.returncode != 0:
        raise explain_failure(wheel, result.output)
    repaired = tool_output.new_wheel("delvewheel", wheel, result.output)
    bundled = bundled_dlls(wheel, repaired)
    tags = wheelfile.platform_tags(repaired)
    summary = f"bundled {', '.join(bundled)}" if bundled else "nothing to bundle"
    return RepairResult(
        path=repaired,
        repaired=True,
        repairer=NAME,
        policy=".".join(tags),
        bundled=bundled,
        reason=f"{summary}; tagged {'.'.join(tags)}",
    )


def check_host(wheel: Path, env: BuildEnv | None) -> None:
    """delvewheel runs on the Windows host, and must be installed beside hwb."""
    if env is not None and not env.on_host:
        raise RepairError(
            f"delvewheel repairs Windows wheels on the Windows host; {wheel.name} was built in "
            f"{env.describe()}",
            hint="build Windows wheels with --isolation venv (or none) on Windows",
        )
    here = host.host_os()
    if here != "windows":
        raise RepairError(
            f"delvewheel repairs Windows wheels on Windows (this machine runs "
            f"{host.pretty(here)}): the DLLs to bundle are found there",
            hint="repair the wheel on Windows with `hwb repair`, or publish it unrepaired "
            "with --no-repair",
        )
    if importlib.util.find_spec("delvewheel") is None:
        raise RepairError(
            f"delvewheel is not installed beside hwb ({sys.executable})",
            hint=f"{sys.executable} -m pip install '{REQUIREMENT}' (or publish unrepaired "
            "wheels with --no-repair)",
        )


def delvewheel_args(wheel: Path, out: Path, request: RepairRequest) -> list[str | Path]:
    """``delvewheel repair`` arguments from ``[tool.hwb.repair]`` and
    ``[tool.hwb.repair.delvewheel]``. Options that take several values are repeated (delvewheel
    appends them), so no value has to be joined with the Windows path separator."""
    config = request.config
    args: list[str | Path] = ["repair", "-v", "-w", out]
    for directory in add_paths(config):
        args += ["--add-path", directory]
    for pattern in request.exclude:
        args += ["--exclude", dll_pattern(pattern, "repair.exclude")]
    for pattern in config.get(PREFIX + "no-mangle") or []:
        args += ["--no-mangle", dll_pattern(pattern, PREFIX + "no-mangle")]
    if request.lib_sdir:
        args += ["-L", request.lib_sdir]
    namespaces = list(config.get(PREFIX + "namespace-pkg") or [])
    if namespaces:
        args += ["--namespace-pkg", ";".join(namespaces)]  # delvewheel splits on os.pathsep
    if request.strip:
        request.reporter.warn(
            "repair.strip has no effect on Windows wheels (delvewheel keeps debugging symbols "
            "out of DLLs itself)"
        )
    args.append(wheel)
    return args


def add_paths(config: Config) -> list[str]:
    """``repair.delvewheel.add-path``, relative entries taken from the directory of the
    pyproject.toml that set them (else the current directory)."""
    key = PREFIX + "add-path"
    source = config.source(key)
    base = Path(source).parent if source.endswith("pyproject.toml") else Path.cwd()
    return [str(p if p.is_absolute() else base / p) for p in map(Path, config.get(key) or [])]


def dll_pattern(pattern: str, key: str) -> str:
    """hwb's shell-style patterns as delvewheel takes them: names with ``*`` wildcards only."""
    if any(ch in pattern for ch in '?[]<>:"/\\|') or not pattern.strip():
        raise RepairError(
            f"{key} entry {pattern!r} cannot be given to delvewheel, which takes DLL names "
            "with * as the only wildcard",
            hint="write entries like cudart64_12.dll or nvcuda*",
        )
    return pattern.strip()


def bundled_dlls(original: Path, repaired: Path) -> list[str]:
    """DLLs delvewheel copied in, under the names they had outside the wheel."""
    new = set(wheelfile.names(repaired)) - set(wheelfile.names(original))
    found = set()
    for member in new:
        base = member.rsplit("/", 1)[-1]
        if ".dist-info/" in member or not base.lower().endswith(".dll"):
            continue
        match = _MANGLED.match(base)
        found.add(match.group("stem") + match.group("ext") if match else base)
    return sorted(found)


def explain_failure(wheel: Path, output: str) -> RepairError:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    said = lines[-1] if lines else "no output"
    missing = re.search(r"Unable to find library: (\S+)", output)
    if missing:
        return RepairError(
            f"{wheel.name} loads {missing.group(1)}, which delvewheel could not find",
            hint="add its directory to [tool.hwb.repair.delvewheel] add-path (or PATH), or "
            "leave it out with [tool.hwb.repair] exclude",
            details=output,
        )
    return RepairError(
        f"delvewheel could not repair {wheel.name}: {said}",
        hint="run again with -v to see delvewheel's output",
        details=output,
    )
