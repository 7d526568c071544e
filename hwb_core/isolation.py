"""Choosing an isolation strategy by what it declares, never by its name.

Every strategy registers an :class:`~hwb_core.interfaces.IsolationInfo` whose
:class:`~hwb_core.interfaces.Capabilities` say what it builds. The order of preference is the
user's ``isolation.preference`` list, then each strategy's declared ``rank``, then its name.

    ordered(pm, config)             every strategy, most preferred first
    choose(session, ...)            the strategy a build uses: asked for, or auto's first
                                    candidate that can run here
    unisolated(pm)                  the strategy ``--no-isolation`` means

What ``--isolation auto`` picks is the ``select_isolation`` hook's answer (the rule
``docs/isolation.md`` states for users is a plugin's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    choice: IsolationChoice | None = pm.hook.select_isolation(
        project=project,
        python=python,
        config=config,
        strategies=ordered(pm, config),
        target_arch=target_arch,
    )
    if choice is None:
        raise IsolationUnavailable(
            "--isolation auto: no plugin chooses an isolation (select_isolation); the built-in "
            "rule is plugin 'auto', blocked or failed",
            hint="unblock it, or name an isolation with --isolation (`hwb plugins` lists them)",
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
