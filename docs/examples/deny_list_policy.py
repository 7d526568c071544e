"""An organization's repair policy: refuse any wheel that bundles a library on a deny list."""

from __future__ import annotations

from collections.abc import Generator
from fnmatch import fnmatch
from pathlib import Path

from hwb import BuildEnv, ConfigKey, PolicyViolation, RepairRequest, RepairResult, hookimpl

# The plugin's name, which `hwb plugins` shows: a project-local plugin is named after its module.
NAME = "deny_list_policy"
# Its settings live in a table of that name, [tool.hwb.deny_list_policy]: blocking the plugin
# (-p no:deny_list_policy) then makes hwb ignore them instead of calling them unknown.
DENY_KEY = f"{NAME}.libraries"


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        DENY_KEY: ConfigKey(
            "list", ["libssl*", "libcrypto*"], "Libraries no wheel may bundle (patterns)."
        )
    }


@hookimpl(wrapper=True, tryfirst=True)
def repair_wheel(
    wheel: Path, env: BuildEnv | None, request: RepairRequest
) -> Generator[None, RepairResult | None, RepairResult | None]:
    # Before the yield the request may still be changed (request.exclude, request.policy).
    result = yield  # the repairer runs here; None when no repairer took the wheel
    if result is None:
        return None
    denied = request.config.get(DENY_KEY)
    refused = [lib for lib in result.bundled if any(fnmatch(lib, p) for p in denied)]
    if refused:
        raise PolicyViolation(
            f"{wheel.name} bundles {', '.join(refused)}, which {DENY_KEY} forbids",
            hint="link against the platform's copy, or ask for an exception",
        )
    result.checked_by.append(NAME)
    return result
