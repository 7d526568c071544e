"""Where a job can run: this machine, and the isolation strategy that builds a job of
another architecture, chosen by what strategies declare (never by name)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hwb import Config, ConfigError, IsolationInfo, host
from hwb.isolation import for_foreign_arch
from hwb.target import TARGET_KEY
from hwb_plugins.matrix.jobs import FAILED, SKIPPED, Job


@dataclasses.dataclass(frozen=True)
class Machine:
    """What this machine can run, asked lazily (checking a container engine costs a round
    trip)."""

    platform: str
    arch: str
    can_emulate: Callable[[str], bool]
    """Whether binfmt_misc has a qemu handler for an architecture."""
    problem: Callable[[str], str | None]
    """``problem(name)``: ``None`` when strategy ``name`` can run here, else why not."""
    strategies: Sequence[IsolationInfo] = ()
    """Every registered strategy, most preferred first."""


def classify(
    job: Job,
    machine: Machine,
    *,
    requires_python: str | None = None,
    not_found: Mapping[str, str] | None = None,
    asked_isolation: str = "auto",
) -> None:
    """Decide whether ``job`` can run here; if not, mark it skipped (or failed) with the reason.
    A job of another architecture goes to the most preferred strategy that emulates it, with
    the target platform in the key that strategy declares for it."""
    if job.platform != machine.platform:
        job.status = SKIPPED
        want, have = host.pretty(job.platform), host.pretty(machine.platform)
        job.error = f"{want} wheels are built on {want}; this machine runs {have}"
        return
    if not_found and job.python in not_found:
        job.status, job.error = FAILED, not_found[job.python]
        return
    spec = specifier(requires_python)
    if (
        spec is not None
        and job.interpreter is not None
        and not spec.contains(job.interpreter.version, prereleases=True)
    ):
        job.status = SKIPPED
        job.error = f"the project's requires-python {requires_python!r} excludes Python {job.interpreter.version}"
        return
    if job.platform in ("macos", "windows"):
        # the macos and windows plugins turn it into what the backend hears (ARCHFLAGS, ...).
        job.overrides[TARGET_KEY] = f"{job.platform}-{job.arch}"
        return
    if host.runs_natively(machine.arch, job.arch):
        return
    route_foreign_arch(job, machine, asked_isolation)


def route_foreign_arch(job: Job, machine: Machine, asked_isolation: str) -> None:
    emulators = for_foreign_arch(machine.strategies, job.arch)
    names = ", ".join(info.name for info in emulators)
    on = f"building {job.arch} on {machine.arch}"
    if asked_isolation != "auto":
        emulators = [info for info in emulators if info.name == asked_isolation]
        if not emulators:
            job.status = SKIPPED
            job.error = (
                f"isolation {asked_isolation} builds for this machine's {machine.arch} only; "
                + (
                    f"{job.arch} needs one that emulates it: --isolation {names}"
                    if names
                    else f"{job.arch} needs an isolation that emulates it (a container under qemu), "
                    "and none is installed"
                )
            )
            return
    if not emulators:
        job.status = SKIPPED
        job.error = (
            f"{on} needs an isolation that emulates it (a container under qemu); no installed "
            "plugin declares one (or it is blocked)"
        )
        return
    if job.arch in host.QEMU_HANDLERS and not machine.can_emulate(job.arch):
        handler = host.QEMU_HANDLERS[job.arch]
        job.status = SKIPPED
        job.error = (
            f"no qemu handler for {job.arch} is registered (/proc/sys/fs/binfmt_misc/{handler}); "
            "install qemu-user-static and binfmt-support"
        )
        return
    refused = []
    for info in emulators:
        problem = machine.problem(info.name)
        if problem is None:
            job.isolation = info.name
            key = info.capabilities.target_key
            value = host.oci_platform(job.arch)
            if key and value:
                job.overrides[key] = value
            return
        refused.append(f"{info.name}, which cannot run here: {problem}")
    job.status = SKIPPED
    job.error = f"{on} needs " + "; or ".join(refused)


def family_overrides(strategies: Sequence[IsolationInfo], config: Config) -> dict[str, Any]:
    """``[tool.hwb.matrix.linux] manylinux``/``musllinux`` for every strategy that declares a
    key for that family (whichever of them builds the job reads its own)."""
    out: dict[str, Any] = {}
    for info in strategies:
        for family, key in info.capabilities.family_keys.items():
            value = (
                config.get(f"matrix.linux.{family}")
                if f"matrix.linux.{family}" in config.schema
                else None
            )
            if value and key in config.schema:
                out[key] = value
    return out


def specifier(requires_python: str | None) -> Any:
    if not requires_python:
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(requires_python)
    except InvalidSpecifier:
        raise ConfigError(
            f"requires-python {requires_python!r} is not a valid version specifier",
            hint='fix [project] requires-python, for example ">=3.9"',
        ) from None


def buildable(jobs: Sequence[Job], requires_python: str | None) -> tuple[list[Job], list[Job]]:
    """The ``jobs`` whose Python the project's ``requires-python`` admits, and those it
    leaves out: the interpreter found here, else the version the job names (a series, ``3.9``,
    is admitted when any of its releases is). A job whose Python names no version is kept."""
    from hwb import PythonSpec, UsageError

    spec = specifier(requires_python)
    if spec is None:
        return list(jobs), []
    kept: list[Job] = []
    left: list[Job] = []
    for job in jobs:
        if job.interpreter is not None:
            versions = [job.interpreter.version]
        else:
            try:
                version = PythonSpec.parse(job.python).version
            except UsageError:
                version = ()
            if len(version) >= 3:
                versions = [".".join(map(str, version[:3]))]
            elif len(version) == 2:
                versions = [f"{version[0]}.{version[1]}.{patch}" for patch in range(40)]
            else:
                versions = []
        admitted = not versions or any(spec.contains(v, prereleases=True) for v in versions)
        (kept if admitted else left).append(job)
    return kept, left
