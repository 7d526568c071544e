"""Example Corp's wheel policy, as an hwb plugin.

It wraps the ``repair_wheel`` hook, so it runs around whichever repairer handles a wheel
(auditwheel on Linux, delocate on macOS), after ``hwb build`` and in ``hwb repair`` alike:

- before the repairer: the GPU driver libraries a machine provides (``libcuda``, ...) are
  added to ``request.exclude``, so they are never bundled;
- after it: a wheel that bundles a library on the deny list is refused, a Linux wheel that no
  repairer made portable is refused, and a wheel that bundles libraries gets a
  ``THIRD-PARTY-NOTICES.txt`` in its ``.dist-info/licenses/`` naming them.

Projects may add to the deny list (``[tool.hwb.example-policy] deny``), never remove from it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Generator
from pathlib import Path

from hwb import BuildEnv, ConfigKey, PolicyViolation, RepairRequest, RepairResult, hookimpl

NAME = "example-policy"
ORGANIZATION = "Example Corp"

#: Never bundled: security fixes must reach these through the system, not through wheels.
DENY = ("libssl.so*", "libcrypto.so*", "libssl.*.dylib", "libcrypto.*.dylib")

#: Provided by the machine's GPU driver; a copy in a wheel breaks on any other driver version.
PLATFORM_LIBRARIES = ("libcuda.so*", "libnvidia-ml.so*", "libnvidia-*.so*")

NOTICE = "THIRD-PARTY-NOTICES.txt"


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        f"{NAME}.deny": ConfigKey(
            "list",
            [],
            f"More libraries a wheel must not bundle (patterns), besides {ORGANIZATION}'s own list.",
        ),
        f"{NAME}.notice": ConfigKey(
            "bool", True, f"Add {NOTICE} naming the bundled libraries to wheels that bundle some."
        ),
    }


@hookimpl(wrapper=True, tryfirst=True)
def repair_wheel(
    wheel: Path, env: BuildEnv | None, request: RepairRequest
) -> Generator[None, RepairResult | None, RepairResult | None]:
    # Before the repairer: what must never be bundled from this machine.
    for pattern in PLATFORM_LIBRARIES:
        if pattern not in request.exclude:
            request.exclude.append(pattern)

    result = yield  # the repairer runs here; its RepairError passes through untouched

    if result is None:
        from hwb import wheelfile

        if all(tag.startswith("linux_") for tag in wheelfile.platform_tags(wheel)):
            raise PolicyViolation(
                f"{wheel.name} was not repaired: {ORGANIZATION} publishes portable Linux wheels only",
                hint="install the auditwheel plugin (it ships with hwb) instead of blocking it",
            )
        return None
    deny = [*DENY, *request.config.get(f"{NAME}.deny")]
    for library in result.bundled:
        for pattern in deny:
            if fnmatch.fnmatch(library, pattern):
                raise PolicyViolation(
                    f"{result.path.name} bundles {library}, which {ORGANIZATION}'s policy forbids "
                    f"(deny pattern {pattern!r})",
                    hint="link it statically, or exclude it ([tool.hwb.repair] exclude) and depend "
                    "on a package that provides it",
                )
    if result.bundled and request.config.get(f"{NAME}.notice"):
        result = _with_notice(result, request)
    result.checked_by.append(NAME)
    return result


def _with_notice(result: RepairResult, request: RepairRequest) -> RepairResult:
    from hwb import wheelfile

    lines = [
        f"{result.path.name} bundles these libraries, copied from the machine that built it by "
        f"{result.repairer}. They remain under their own licenses; see each project's sources.",
        "",
        *(f"- {library}" for library in result.bundled),
        "",
    ]
    member = f"{wheelfile.dist_info(result.path)}/licenses/{NOTICE}"
    new_path = wheelfile.rewrite(
        result.path, request.output_dir, add={member: "\n".join(lines).encode()}
    )
    return dataclasses.replace(result, path=new_path, checked_by=list(result.checked_by))
