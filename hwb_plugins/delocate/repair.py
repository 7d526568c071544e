"""``delocate-wheel`` for one macOS wheel: arguments, deployment target, and what it did."""

from __future__ import annotations

import os
import re
from pathlib import Path

from hwb import BuildEnv, Config, RepairError, RepairRequest, RepairResult, wheelfile
from hwb.repairtool import ToolOutput
from hwb_plugins.delocate import NAME, PREFIX
from hwb_plugins.delocate.tools import (
    archs_of,
    check_host,
    last_words,
    missing_archs,
    run_delocate,
    tag_parts,
    without_tracebacks,
)

_TARGET = re.compile(r"\d+(\.\d+)?")
_POLICY = re.compile(r"macosx_(\d+)_(\d+)(_[a-z0-9_]+)?")


def repair(wheel: Path, env: BuildEnv | None, request: RepairRequest) -> RepairResult:
    if env is not None and not env.on_host:
        raise RepairError(
            f"delocate repairs macOS wheels on the macOS host; {wheel.name} was built in "
            f"{env.describe()}",
            hint="build macOS wheels with --isolation venv (or none) on a Mac",
        )
    check_host()
    archs = required_archs(wheel, request.config, request)
    target = deployment_target(request)
    out = request.output_dir
    tool_output = ToolOutput(out)
    args = delocate_args(wheel, out, archs, request)
    environ = dict(os.environ)
    environ.pop("MACOSX_DEPLOYMENT_TARGET", None)
    if target:
        environ["MACOSX_DEPLOYMENT_TARGET"] = target
    for_target = f", macOS {target}+" if target else ""
    request.reporter.step(f"repairing {wheel.name} with delocate ({'+'.join(archs)}{for_target})")
    result = run_delocate("delocate_wheel", args, request.reporter, environ)
    if result.returncode != 0:
        raise explain_failure(wheel, archs, target, result.output)
    repaired = tool_output.new_wheel("delocate", wheel, result.output)
    lacking = missing_archs(repaired, archs)
    if lacking:
        where = "; ".join(f"{name} lacks {'+'.join(m)}" for name, m in sorted(lacking.items()))
        raise RepairError(
            f"{wheel.name}: not every binary holds {'+'.join(archs)} ({where})",
            hint="build every extension and library for those architectures, or change "
            "repair.delocate.require-archs",
        )
    bundled = bundled_libraries(wheel, repaired)
    tags = wheelfile.platform_tags(repaired)
    summary = f"bundled {', '.join(bundled)}" if bundled else "nothing to bundle"
    return RepairResult(
        path=repaired,
        repaired=True,
        repairer=NAME,
        policy=".".join(tags),
        bundled=bundled,
        reason=f"{summary}; checked {'+'.join(archs)}; tagged {'.'.join(tags)}",
    )


def delocate_args(
    wheel: Path, out: Path, archs: list[str], request: RepairRequest
) -> list[str | Path]:
    """``delocate-wheel`` arguments for ``request`` (the deployment target travels in the
    environment: delocate reads ``MACOSX_DEPLOYMENT_TARGET``)."""
    args: list[str | Path] = ["-v", "-w", out, "--require-archs", ",".join(archs)]
    if request.lib_sdir:
        args += ["-L", request.lib_sdir]
    for pattern in request.exclude:
        args += ["-e", exclude_substring(pattern)]
    if request.strip:
        request.reporter.warn(
            "repair.strip has no effect on macOS wheels (delocate does not strip)"
        )
    args.append(wheel)
    return args


def required_archs(wheel: Path, config: Config, request: RepairRequest | None = None) -> list[str]:
    """``repair.delocate.require-archs``, else the architectures the build targeted
    (``request.target``: x86_64 and arm64 for universal2), else those the wheel's tags name."""
    configured = list(config.get(PREFIX + "require-archs") or [])
    if configured:
        return archs_of(
            configured, f"{PREFIX}require-archs ({config.source(PREFIX + 'require-archs')})"
        )
    target = request.target if request is not None else None
    if target is not None and target.os == "macos" and target.archs:
        return archs_of(list(target.archs), f"the build's target ({target.describe()})")
    words = [tag_parts(tag)[1] for tag in wheelfile.platform_tags(wheel)]
    return archs_of(words, wheel.name)


def deployment_target(request: RepairRequest) -> str | None:
    """The oldest macOS the wheel must support, from the first of: ``deployment-target``, a
    ``macosx_X_Y`` policy, the build's target (:mod:`hwb_plugins.macos`: what the backend was
    given), ``MACOSX_DEPLOYMENT_TARGET``, ``matrix.macos.deployment-target``."""
    config = request.config
    candidates: list[tuple[str, str | None]] = [
        (
            f"{PREFIX}deployment-target ({config.source(PREFIX + 'deployment-target')})",
            config.get(PREFIX + "deployment-target"),
        ),
    ]
    policy = request.policy or ""
    match = _POLICY.fullmatch(policy)
    if match:
        candidates.append((f"policy {policy}", f"{match.group(1)}.{match.group(2)}"))
    target = request.target
    if target is not None and target.os == "macos" and target.deployment_target:
        candidates.append((f"the build's target ({target.source})", target.deployment_target))
    candidates.append(("MACOSX_DEPLOYMENT_TARGET", os.environ.get("MACOSX_DEPLOYMENT_TARGET")))
    if "matrix.macos.deployment-target" in config.schema:
        candidates.append(
            ("matrix.macos.deployment-target", config.get("matrix.macos.deployment-target"))
        )
    for source, value in candidates:
        if not value:
            continue
        value = str(value).strip()
        if not _TARGET.fullmatch(value):
            raise RepairError(
                f"{source} is {value!r}, not a macOS version",
                hint="write it like 11.0 or 10.13",
            )
        return value
    return None


def exclude_substring(pattern: str) -> str:
    """delocate leaves out libraries whose path *contains* a string; hwb's ``exclude`` holds
    shell-style patterns. ``libcuda*``, ``*libfoo*`` and ``libfoo.dylib`` translate; a pattern
    with a wildcard inside does not."""
    core = pattern.strip("*")
    if not core or any(ch in core for ch in "*?["):
        raise RepairError(
            f"exclude pattern {pattern!r} cannot be given to delocate, which matches a plain "
            "part of the library's path",
            hint="for macOS wheels write exclude entries as names or name prefixes (libfoo*)",
        )
    return core


def bundled_libraries(original: Path, repaired: Path) -> list[str]:
    """Libraries delocate copied in (it keeps their names)."""
    new = set(wheelfile.names(repaired)) - set(wheelfile.names(original))
    return sorted(
        {
            m.rsplit("/", 1)[-1]
            for m in new
            if m.endswith((".dylib", ".so")) and ".dist-info/" not in m
        }
    )


def explain_failure(wheel: Path, archs: list[str], target: str | None, output: str) -> RepairError:
    said = last_words(output)
    if (
        "missing architectures" in output
        or "Required arch" in output
        or "missing architecture" in said
    ):
        # delocate 0.12/0.13 report, for each bundled library that lacks an architecture:
        # "Required arch(s) A[, B] missing from USER" (USER: the binary that links it; the
        # architecture is one required) or "USER needs arch(s) A[, B] missing from LIB" (one
        # that USER has).
        reports = sorted(
            {
                f"a library {Path(user).name} links lacks {arch.replace(', ', '+')}"
                for arch, user in re.findall(
                    r"Required archs? ([\w, ]+?) missing from (\S+)", output
                )
            }
            | {
                f"{Path(lib).name} lacks {arch.replace(', ', '+')} (needed by {Path(user).name})"
                for user, arch, lib in re.findall(
                    r"(\S+) needs archs? ([\w, ]+?) missing from (\S+)", output
                )
            }
        )
        where = "; ".join(reports)
        return RepairError(
            f"{wheel.name}: binaries lack required architectures {'+'.join(archs)}"
            + (f" ({where})" if where else ""),
            hint="build the library for every architecture (or set repair.delocate.require-archs; "
            "for universal2, repair thin wheels and merge them with `hwb repair --fuse`)",
            details=without_tracebacks(output),
        )
    if "do not satisfy target MacOS" in output:
        needed = re.findall(r"MACOSX_DEPLOYMENT_TARGET=([\d.]+)", output)
        need_text = f" (they need {needed[-1]})" if needed else ""
        return RepairError(
            f"{wheel.name}: its binaries need a newer macOS than the deployment target "
            f"{target}{need_text}",
            hint="raise repair.delocate.deployment-target (or MACOSX_DEPLOYMENT_TARGET), or build "
            "those libraries for the older macOS",
            details=without_tracebacks(output),
        )
    missing = re.findall(r"^\s*(?:ERROR:[\w.]+:)?(\S+) not found, requested by (\S+)", output, re.M)
    if missing:
        libs = sorted({lib for lib, _ in missing})
        by = sorted({_in_wheel(requester) for _, requester in missing})
        return RepairError(
            f"delocate could not repair {wheel.name}: {', '.join(libs)} not found "
            f"(needed by {', '.join(by)})",
            hint="install that library where the wheel's binaries look for it (or on "
            "DYLD_LIBRARY_PATH), or leave it out with repair.exclude",
            details=without_tracebacks(output),
        )
    return RepairError(
        f"delocate could not repair {wheel.name}: {said}",
        hint="run again with -v to see delocate's output",
        details=without_tracebacks(output),
    )


def _in_wheel(path: str) -> str:
    """A path in delocate's unpacked copy of the wheel (``/tmp/tmpXYZ/wheel/pkg/mod.so``) as the
    wheel member it is (``pkg/mod.so``)."""
    marker = "/wheel/"
    return path.split(marker, 1)[1] if marker in path else path
