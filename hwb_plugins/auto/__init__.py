"""Plugin ``auto``: the documented rule of ``--isolation auto`` (docs/isolation.md), on the
``select_isolation`` hook, answering last so that any other plugin's choice comes first.

The kernel checks the name asked for and tries the choice's fallbacks in order; this plugin
only chooses. Blocked (``-p no:auto``), ``--isolation auto`` fails in one line and a strategy
named with ``--isolation`` works as before."""

from __future__ import annotations

from collections.abc import Sequence

from hwb import (
    IsolationChoice,
    IsolationInfo,
    IsolationUnavailable,
    Project,
    extensions,
    hookimpl,
    host,
)


@hookimpl(trylast=True)
def select_isolation(
    project: Project, strategies: Sequence[IsolationInfo], target_arch: str | None
) -> IsolationChoice:
    return auto_choice(strategies, project, target_arch)


def auto_choice(
    strategies: Sequence[IsolationInfo], project: Project, target_arch: str | None = None
) -> IsolationChoice:
    """The rule, over ``strategies`` in preference order (those that build in an environment
    of their own):

    1. a Linux wheel of an architecture this machine does not run: the strategies that emulate
       it (containers under qemu);
    2. a project without extension modules: the native strategies (one pure wheel serves all);
    3. extension modules on Linux: the strategies that make portable Linux wheels (manylinux),
       then the native ones;
    4. extension modules elsewhere: the native strategies.

    The first is the choice; the others are its fallbacks, tried in order when it cannot run.
    """
    from hwb.isolation import for_foreign_arch

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
    elif not extensions.of(project).detected:
        candidates, why = native, "no extension modules found"
    else:
        evidence = "; ".join(extensions.of(project).reasons)
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
