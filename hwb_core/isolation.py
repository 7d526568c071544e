"""Choosing an isolation strategy by what it declares, never by its name.

Every strategy registers an :class:`~hwb_core.interfaces.IsolationInfo` whose
:class:`~hwb_core.interfaces.Capabilities` say what it builds. The order of preference is the
user's ``isolation.preference`` list, then each strategy's declared ``rank``, then its name.

    ordered(pm, config)             every strategy, most preferred first
    auto_choice(...)                what ``--isolation auto`` picks, with its fallbacks
    choose(session, ...)            the strategy a build uses: asked for, or auto's first
                                    candidate that can run here
    unisolated(pm)                  the strategy ``--no-isolation`` means
    for_foreign_arch(...)           the strategies that build another Linux architecture

``docs/isolation.md`` states the rule for users.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hwb_core import host
from hwb_core.errors import IsolationUnavailable, UsageError
from hwb_core.interfaces import IsolationChoice, IsolationInfo

if TYPE_CHECKING:
    from hwb_core.config import Config
    from hwb_core.interfaces import PythonInfo, Reporter
    from hwb_core.plugins import PluginManager
    from hwb_core.project import Project

PREFERENCE_KEY = "isolation.preference"


def ordered(pm: PluginManager, config: Config | None = None) -> list[IsolationInfo]:
    """Every registered strategy, most preferred first: those named in ``isolation.preference``
    in that order, then the rest by declared rank and name."""
    found = pm.isolations()
    preference = list(config.get(PREFERENCE_KEY) or []) if config is not None else []
    first = [found[name] for name in preference if name in found]
    rest = sorted(
        (info for name, info in found.items() if name not in preference),
        key=lambda info: (info.capabilities.rank, info.name),
    )
    return first + rest


def for_foreign_arch(strategies: Sequence[IsolationInfo], arch: str) -> list[IsolationInfo]:
    """The strategies that build Linux wheels of ``arch`` when this machine runs another
    architecture: they declare it, emulate it, and take a target platform."""
    return [
        info
        for info in strategies
        if info.capabilities.target_key
        and info.capabilities.emulation
        and arch in info.capabilities.architectures
    ]


def auto_choice(
    strategies: Sequence[IsolationInfo], project: Project, target_arch: str | None = None
) -> IsolationChoice:
    """The documented rule of ``--isolation auto``, over ``strategies`` in preference order
    (those that build in an environment of their own):

    1. a Linux wheel of an architecture this machine does not run: the strategies that emulate
       it (containers under qemu);
    2. a project without extension modules: the native strategies (one pure wheel serves all);
    3. extension modules on Linux: the strategies that make portable Linux wheels (manylinux),
       then the native ones;
    4. extension modules elsewhere: the native strategies.

    The first is the choice; the others are its fallbacks, tried in order when it cannot run.
    """
    usable = [info for info in strategies if info.capabilities.isolated]
    native = [info for info in usable if info.capabilities.native]
    os_name, arch = host.host_os(), host.host_arch()
    if (
        os_name == "linux"
        and target_arch
        and target_arch != arch
        and not host.runs_natively(arch, target_arch)
    ):
        candidates = for_foreign_arch(usable, target_arch)
        why = f"Linux {target_arch} wheels on this {arch} machine: {{name}} emulates {target_arch}"
    elif not project.extensions.detected:
        candidates, why = native, "no extension modules found"
    else:
        evidence = "; ".join(project.extensions.reasons)
        if os_name == "linux":
            portable = [info for info in usable if "manylinux" in info.capabilities.linux]
            candidates = portable + [info for info in native if info not in portable]
            why = f"extension modules ({evidence}) on Linux: " + (
                "{name} builds manylinux wheels"
                if portable
                else "no installed isolation builds manylinux wheels; {name} builds natively"
            )
        else:
            candidates = native
            why = f"extension modules ({evidence}) on {host.host_os()}: native build"
    if not candidates:
        raise IsolationUnavailable(
            "--isolation auto found no installed isolation for this build",
            hint="install a plugin that provides one, or name one with --isolation "
            "(`hwb plugins` lists them)",
        )
    first = candidates[0]
    return IsolationChoice(
        first.name,
        why.format(name=first.name),
        fallbacks=tuple(info.name for info in candidates[1:]),
    )


def choose(
    pm: PluginManager,
    reporter: Reporter,
    project: Project,
    python: PythonInfo,
    config: Config,
    asked: str,
    target_arch: str | None = None,
) -> IsolationChoice:
    """The strategy a build uses. Asked for by name: that one, or an error when it cannot run.
    ``auto``: the ``select_isolation`` hook's choice, else the first of its fallbacks whose
    check passes, each refusal said as a warning."""
    if asked != "auto":
        info = pm.require_isolation(asked)
        problem = info.why_unavailable(config)
        if problem:
            raise IsolationUnavailable(f"isolation {asked!r} cannot run here: {problem}")
        return IsolationChoice(asked, "asked for")
    choice: IsolationChoice = pm.hook.select_isolation(
        project=project,
        python=python,
        config=config,
        strategies=ordered(pm, config),
        target_arch=target_arch,
    )
    return first_available(pm, reporter, choice, config)


def first_available(
    pm: PluginManager,
    reporter: Reporter,
    choice: IsolationChoice,
    config: Config | None = None,
) -> IsolationChoice:
    """``choice`` when it can run here, else the first fallback that can, with the reason.
    ``config`` is what a strategy's check receives when it takes an argument."""
    isolations = pm.isolations()
    names = [choice.name, *choice.fallbacks]
    refused: list[str] = []
    for position, name in enumerate(names):
        info = isolations.get(name)
        problem = pm.not_provided(name) if info is None else info.why_unavailable(config)
        if problem is None:
            if not refused:
                return choice
            return IsolationChoice(
                name,
                f"{choice.reason}; fallback: " + "; ".join(refused),
                fallbacks=tuple(names[position + 1 :]),
            )
        refused.append(f"{name} unavailable ({problem})")
        nxt = names[position + 1] if position + 1 < len(names) else None
        reporter.warn(
            f"auto chose {name}, but it cannot run here: {problem}"
            + (f"; trying {nxt}" if nxt else "")
        )
    raise IsolationUnavailable(
        f"auto found no isolation that can run here ({'; '.join(refused)})",
        hint="fix one of them, or choose one with --isolation (`hwb plugins` lists them)",
    )


def unisolated(pm: PluginManager) -> str:
    """The strategy ``--no-isolation`` means: the most preferred native one that declares it
    builds in the interpreter's own environment."""
    for info in ordered(pm):
        if info.capabilities.native and not info.capabilities.isolated:
            return info.name
    raise UsageError(
        "--no-isolation: no installed isolation builds in the interpreter's own environment",
        hint="name one with --isolation (`hwb plugins` lists them)",
    )
