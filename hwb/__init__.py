"""hwb's public toolkit: every name a plugin may import.

A plugin imports from here (``from hwb import hookimpl, BuildEnv, UsageError``) and from the
toolkit's modules (``hwb.process``, ``hwb.wheelfile``, ``hwb.host``, ...), never from ``hwb_core``:
the kernel's modules are private and change between releases, these names do not
(docs/writing-plugins.md, "The toolkit"). Names are looked up on first use, so importing ``hwb``
costs nothing until a name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hwb.installer import (
        installer_environment as installer_environment,
    )
    from hwb.repairs import (
        repair as repair,
    )
    from hwb.repairs import (
        repair_request as repair_request,
    )
    from hwb.requirements import (
        from_index_only as from_index_only,
    )
    from hwb.requirements import (
        normalize_all as normalize_all,
    )
    from hwb.terminal import (
        live_wanted as live_wanted,
    )
    from hwb.wheeltest import (
        WheelTestOutcome as WheelTestOutcome,
    )
    from hwb.wheeltest import (
        WheelTestRequest as WheelTestRequest,
    )
    from hwb_core import (
        __version__ as __version__,
    )
    from hwb_core.backend import (
        build_wheel as build_wheel,
    )
    from hwb_core.backend_env import (
        BackendEnvironment as BackendEnvironment,
    )
    from hwb_core.config import (
        Config as Config,
    )
    from hwb_core.config import (
        load_config as load_config,
    )
    from hwb_core.errors import (
        EXIT_BUILD_FAILED as EXIT_BUILD_FAILED,
    )
    from hwb_core.errors import (
        EXIT_INTERRUPTED as EXIT_INTERRUPTED,
    )
    from hwb_core.errors import (
        EXIT_OK as EXIT_OK,
    )
    from hwb_core.errors import (
        EXIT_TIMEOUT as EXIT_TIMEOUT,
    )
    from hwb_core.errors import (
        EXIT_USAGE as EXIT_USAGE,
    )
    from hwb_core.errors import (
        BackendError as BackendError,
    )
    from hwb_core.errors import (
        BuildError as BuildError,
    )
    from hwb_core.errors import (
        BuildTimeout as BuildTimeout,
    )
    from hwb_core.errors import (
        ConfigError as ConfigError,
    )
    from hwb_core.errors import (
        HwbError as HwbError,
    )
    from hwb_core.errors import (
        IsolationUnavailable as IsolationUnavailable,
    )
    from hwb_core.errors import (
        PolicyViolation as PolicyViolation,
    )
    from hwb_core.errors import (
        PythonNotFound as PythonNotFound,
    )
    from hwb_core.errors import (
        RepairError as RepairError,
    )
    from hwb_core.errors import (
        UnsafeArchive as UnsafeArchive,
    )
    from hwb_core.errors import (
        UsageError as UsageError,
    )
    from hwb_core.errors import (
        WheelTestFailed as WheelTestFailed,
    )
    from hwb_core.hookspecs import (
        hookimpl as hookimpl,
    )
    from hwb_core.hookspecs import (
        hookspec as hookspec,
    )
    from hwb_core.interfaces import (
        BuildEnv as BuildEnv,
    )
    from hwb_core.interfaces import (
        BuildResult as BuildResult,
    )
    from hwb_core.interfaces import (
        Capabilities as Capabilities,
    )
    from hwb_core.interfaces import (
        CheckerRequest as CheckerRequest,
    )
    from hwb_core.interfaces import (
        CliOption as CliOption,
    )
    from hwb_core.interfaces import (
        CommandLine as CommandLine,
    )
    from hwb_core.interfaces import (
        ConfigKey as ConfigKey,
    )
    from hwb_core.interfaces import (
        EnvRequest as EnvRequest,
    )
    from hwb_core.interfaces import (
        IsolationChoice as IsolationChoice,
    )
    from hwb_core.interfaces import (
        IsolationInfo as IsolationInfo,
    )
    from hwb_core.interfaces import (
        PythonInfo as PythonInfo,
    )
    from hwb_core.interfaces import (
        PythonSpec as PythonSpec,
    )
    from hwb_core.interfaces import (
        RepairRequest as RepairRequest,
    )
    from hwb_core.interfaces import (
        RepairResult as RepairResult,
    )
    from hwb_core.interfaces import (
        Reporter as Reporter,
    )
    from hwb_core.interfaces import (
        RunResult as RunResult,
    )
    from hwb_core.interfaces import (
        Scope as Scope,
    )
    from hwb_core.pipeline import (
        BuildRequest as BuildRequest,
    )
    from hwb_core.pipeline import (
        Session as Session,
    )
    from hwb_core.pipeline import (
        build as build,
    )
    from hwb_core.pipeline import (
        check_outdir as check_outdir,
    )
    from hwb_core.pipeline import (
        prepared_source as prepared_source,
    )
    from hwb_core.pipeline import (
        publish as publish,
    )
    from hwb_core.pipeline import (
        resolve_outdir as resolve_outdir,
    )
    from hwb_core.plugins import (
        PluginManager as PluginManager,
    )
    from hwb_core.project import (
        Project as Project,
    )
    from hwb_core.report import (
        use_color as use_color,
    )
    from hwb_core.target import (
        Target as Target,
    )

#: Each public name and the module that holds it.
_NAMES: dict[str, str] = {
    "BackendEnvironment": "hwb_core.backend_env",
    "BackendError": "hwb_core.errors",
    "BuildEnv": "hwb_core.interfaces",
    "BuildError": "hwb_core.errors",
    "BuildRequest": "hwb_core.pipeline",
    "BuildResult": "hwb_core.interfaces",
    "BuildTimeout": "hwb_core.errors",
    "Capabilities": "hwb_core.interfaces",
    "CheckerRequest": "hwb_core.interfaces",
    "CliOption": "hwb_core.interfaces",
    "CommandLine": "hwb_core.interfaces",
    "Config": "hwb_core.config",
    "ConfigError": "hwb_core.errors",
    "ConfigKey": "hwb_core.interfaces",
    "EXIT_BUILD_FAILED": "hwb_core.errors",
    "EXIT_INTERRUPTED": "hwb_core.errors",
    "EXIT_OK": "hwb_core.errors",
    "EXIT_TIMEOUT": "hwb_core.errors",
    "EXIT_USAGE": "hwb_core.errors",
    "EnvRequest": "hwb_core.interfaces",
    "HwbError": "hwb_core.errors",
    "IsolationChoice": "hwb_core.interfaces",
    "IsolationInfo": "hwb_core.interfaces",
    "IsolationUnavailable": "hwb_core.errors",
    "PluginManager": "hwb_core.plugins",
    "PolicyViolation": "hwb_core.errors",
    "Project": "hwb_core.project",
    "PythonInfo": "hwb_core.interfaces",
    "PythonNotFound": "hwb_core.errors",
    "PythonSpec": "hwb_core.interfaces",
    "RepairError": "hwb_core.errors",
    "RepairRequest": "hwb_core.interfaces",
    "RepairResult": "hwb_core.interfaces",
    "Reporter": "hwb_core.interfaces",
    "RunResult": "hwb_core.interfaces",
    "Scope": "hwb_core.interfaces",
    "Session": "hwb_core.pipeline",
    "Target": "hwb_core.target",
    "UnsafeArchive": "hwb_core.errors",
    "UsageError": "hwb_core.errors",
    "WheelTestFailed": "hwb_core.errors",
    "WheelTestOutcome": "hwb.wheeltest",
    "WheelTestRequest": "hwb.wheeltest",
    "__version__": "hwb_core",
    "build": "hwb_core.pipeline",
    "build_wheel": "hwb_core.backend",
    "check_outdir": "hwb_core.pipeline",
    "from_index_only": "hwb.requirements",
    "hookimpl": "hwb_core.hookspecs",
    "hookspec": "hwb_core.hookspecs",
    "installer_environment": "hwb.installer",
    "live_wanted": "hwb.terminal",
    "load_config": "hwb_core.config",
    "normalize_all": "hwb.requirements",
    "prepared_source": "hwb_core.pipeline",
    "publish": "hwb_core.pipeline",
    "repair": "hwb.repairs",
    "repair_request": "hwb.repairs",
    "resolve_outdir": "hwb_core.pipeline",
    "use_color": "hwb_core.report",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'hwb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
