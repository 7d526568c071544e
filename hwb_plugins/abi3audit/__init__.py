"""Check ``abi3audit``: a wheel tagged ``abi3`` must keep to the stable ABI.

An extension built with ``Py_LIMITED_API`` that still calls a function outside the stable ABI
(``_PyLong_Copy``), or one of the stable ABI newer than the version in its tag, installs on
every later Python and fails there at import. This plugin wraps the ``repair_wheel`` hook, the
way organizations' policies do: after the repairer, a wheel tagged ``abi3`` is audited with a
pinned ``abi3audit`` (:mod:`.audit`), where the build ran, and a violation refuses it, naming
the symbols. ``[tool.hwb.repair] abi3-audit`` makes it a warning (``warn``) or turns the check
off (``off``); ``hwb -p no:abi3audit`` blocks the plugin. See ``docs/repair.md``.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from hwb import BuildEnv, ConfigKey, RepairRequest, RepairResult, hookimpl

NAME = "abi3audit"
KEY = "repair.abi3-audit"


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        KEY: ConfigKey(
            "str",
            "error",
            "What a wheel tagged abi3 that uses symbols outside the stable ABI (found by "
            "abi3audit) does: error: it is refused; warn: published with a warning; off: not "
            "audited.",
            choices=("error", "warn", "off"),
        )
    }


@hookimpl(wrapper=True, tryfirst=True)
def repair_wheel(
    wheel: Path, env: BuildEnv | None, request: RepairRequest
) -> Generator[None, RepairResult | None, RepairResult | None]:
    result = yield  # the repairer runs here; its errors pass through
    published = result.path if result is not None else wheel
    mode = str(request.config.get(KEY))
    if mode == "off" or not is_abi3(published):
        return result
    from hwb_plugins.abi3audit.audit import audit

    audit(published, env, request, warn_only=mode == "warn")
    if result is not None:
        result.checked_by.append(NAME)
    return result


def is_abi3(wheel: Path) -> bool:
    """True when one of ``wheel``'s tags has the ABI tag ``abi3`` (``cp39-abi3-...``)."""
    from packaging.utils import parse_wheel_filename

    try:
        tags = parse_wheel_filename(wheel.name)[3]
    except ValueError:
        return False
    return any(tag.abi == "abi3" for tag in tags)
