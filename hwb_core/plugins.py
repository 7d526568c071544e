"""Plugin discovery and the typed facade over pluggy.

Plugins are found through the ``hwb`` entry-point group (listed by
:mod:`hwb_core.entry_points`) and registered in one pluggy ``PluginManager`` under their
entry-point names. A plugin that fails to import or to validate is recorded with its error and
left out; everything else keeps working.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pluggy

from hwb_core import hookspecs
from hwb_core.entry_points import blocked_from_environment, load_target
from hwb_core.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from hwb_core.config import Config
    from hwb_core.interfaces import CliOption, CommandLine, ConfigKey, IsolationInfo
    from hwb_core.project import Project

ENTRY_POINT_GROUP = "hwb"
CORE_PLUGIN_NAME = "core"
__all__ = ["PluginManager", "PluginRecord", "blocked_from_environment"]


@dataclasses.dataclass
class PluginRecord:
    """What ``hwb plugins`` shows about one plugin."""

    name: str
    target: str
    """The entry point's value (``package.module``) or the project-local module's name."""
    origin: str
    """``"entry-point"``, ``"project"`` or ``"core"``."""
    status: str = "loaded"
    """``"loaded"``, ``"blocked"`` or ``"failed"``."""
    error: str | None = None
    hooks: list[str] = dataclasses.field(default_factory=list)


class PluginManager:
    """The one place hooks are called from, and the record of every plugin seen."""

    def __init__(self, *, blocked: Iterable[str] = ()) -> None:
        self.blocked = set(blocked)
        self._pm = _Pluggy(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        #: Every module of hook specifications and the plugin that added it (the core's first).
        self.spec_modules: list[tuple[str, object]] = [(CORE_PLUGIN_NAME, hookspecs)]
        self._unchecked: list[tuple[PluginRecord, object]] = []
        self._adding: str | None = None
        # Each plugin's own specs are added as it is registered, before its hooks are checked.
        self._pm.hook.add_hookspecs.call_historic(kwargs={"pm": self})
        self._schema: dict[str, ConfigKey] | None = None
        self._isolations: dict[str, IsolationInfo] | None = None

    # ----------------------------------------------------------------- loading

    @property
    def hook(self) -> Any:
        return self._pm.hook

    def load_core(self) -> None:
        from hwb_core import defaults

        self._register(defaults, CORE_PLUGIN_NAME, target="hwb_core.defaults", origin="core")
        self._check_hooks()

    def load_entry_points(self) -> None:
        """Import every plugin of the ``hwb`` group that is not blocked, in the order the
        entry points are listed (:mod:`hwb_core.entry_points`, which remembers the listing
        between runs). A plugin that fails to import is recorded with its error; a name that
        two distributions give different plugins is the first one's, the other recorded as a
        duplicate."""
        from hwb_core.entry_points import listing

        found: dict[str, list[str]] = {}
        for name, value in listing(ENTRY_POINT_GROUP):
            values = found.setdefault(name, [])
            if value not in values:  # a distribution seen twice: once
                values.append(value)
        for name, values in found.items():
            if name not in self.blocked and name not in self.records:
                self._load(name, values[0], "entry-point")
        self._check_hooks()
        for name, values in found.items():
            if name in self.blocked:
                self.records[name] = PluginRecord(name, values[0], "entry-point", status="blocked")
                continue
            taken = self.records.get(name)
            for value in values:
                if taken is not None and value != taken.target:
                    self.records[f"{name} (duplicate)"] = PluginRecord(
                        name,
                        value,
                        "entry-point",
                        status="failed",
                        error=f"the name {name!r} is already taken by {taken.target}",
                    )
        for name in sorted(self.blocked - set(self.records)):
            self.records[name] = PluginRecord(
                name, "", "entry-point", status="blocked", error="no installed plugin has this name"
            )

    def load_project_plugins(self, root: Path, modules: Iterable[str]) -> None:
        """Import ``[tool.hwb] plugins`` modules from the project root."""
        modules = [m for m in modules if m not in self.records]
        if not modules:
            return
        root_str = str(root)
        sys.path.insert(0, root_str)
        try:
            for module_name in modules:
                if module_name in self.blocked:
                    self.records[module_name] = PluginRecord(
                        module_name, module_name, "project", status="blocked"
                    )
                    continue
                self._load(module_name, module_name, "project")
        finally:
            sys.path.remove(root_str)
        self._check_hooks()
        self._schema = None
        self._isolations = None

    def add_hookspecs(self, module: Any) -> None:
        """Add the hook specifications of ``module`` (a module or class whose functions carry
        ``@hookspec``), for the plugin whose :func:`~hwb_core.hookspecs.add_hookspecs` is
        running: its hooks are called with ``pm.hook.NAME(...)`` like the core's."""
        self._pm.add_hookspecs(module)
        self.spec_modules.append((self._adding or "", module))

    def _load(self, name: str, target: str, origin: str) -> None:
        try:
            plugin = load_target(target)
        except Exception as exc:  # a broken plugin is reported, not fatal
            self.records[name] = PluginRecord(
                name, target, origin, status="failed", error=_describe_exception(exc)
            )
            return
        self._register(plugin, name, target=target, origin=origin)

    def _register(self, plugin: object, name: str, *, target: str, origin: str) -> None:
        record = PluginRecord(name, target, origin)
        self.records[name] = record
        self._adding = name
        try:
            self._pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            record.status, record.error = "failed", _describe_validation(self, plugin, exc)
            return
        except Exception as exc:  # a name taken twice, or its add_hookspecs failing
            if self._pm.is_registered(plugin):
                self._pm.unregister(plugin)
            record.status, record.error = "failed", _describe_exception(exc)
            return
        finally:
            self._adding = None
        self._unchecked.append((record, plugin))

    def _check_hooks(self) -> None:
        """Refuse the plugins registered since the last check that implement a hook no plugin
        declares (a misspelling, or the hook of a plugin that is not loaded), unless the
        implementation says it is optional (``@hookimpl(optionalhook=True)``). Checked once a
        whole set of plugins is in, since a plugin may implement a hook that a plugin
        registered after it declares."""
        unchecked, self._unchecked = self._unchecked, []
        for record, plugin in unchecked:
            callers = self._pm.get_hookcallers(plugin) or []
            unknown = [
                hc.name
                for hc in callers
                if not hc.has_spec()
                and any(i.plugin is plugin and not i.optionalhook for i in hc.get_hookimpls())
            ]
            if unknown:
                self._pm.unregister(plugin)
                import difflib

                known = self.hook_names()
                hints = []
                for hook_name in unknown:
                    close = difflib.get_close_matches(hook_name, known, n=1)
                    hints.append(
                        f"{hook_name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                    )
                record.status = "failed"
                record.error = "implements unknown hook " + ", ".join(hints)
                continue
            record.hooks = sorted(hc.name for hc in callers)

    def hook_names(self) -> list[str]:
        """Every hook declared, the core's and the plugins' own."""
        return [
            name
            for _, module in self.spec_modules
            for name in dir(module)
            if hasattr(getattr(module, name), "hwb_spec")
        ]

    # ----------------------------------------------------------------- queries

    def loaded(self) -> list[PluginRecord]:
        return [r for r in self.records.values() if r.status == "loaded"]

    def failures(self) -> list[PluginRecord]:
        return [r for r in self.records.values() if r.status == "failed"]

    def schema(self) -> dict[str, ConfigKey]:
        if self._schema is None:
            schema: dict[str, ConfigKey] = {}
            for impl in self._pm.hook.config_schema.get_hookimpls():
                result = cast("Mapping[str, ConfigKey] | None", impl.function())
                for key, spec in (result or {}).items():
                    if key in schema:
                        raise ConfigError(
                            f"plugin {impl.plugin_name!r} declares configuration key {key!r} a second time",
                            hint=f"block one of the plugins with -p no:{impl.plugin_name}",
                        )
                    schema[key] = spec
            self._schema = schema
        return self._schema

    def isolations(self) -> dict[str, IsolationInfo]:
        if self._isolations is None:
            found: dict[str, IsolationInfo] = {}
            for result in self._pm.hook.register_isolation():
                items = result if isinstance(result, (list, tuple)) else [result]
                for info in items:
                    found.setdefault(info.name, info)
            self._isolations = dict(sorted(found.items()))
        return self._isolations

    def work_dir(self) -> Path:
        """A new temporary directory for a build: the ``build_work_dir`` hook's, else one
        made here (``hwb-build-*``)."""
        import tempfile

        found = self._pm.hook.build_work_dir()
        return Path(found) if found is not None else Path(tempfile.mkdtemp(prefix="hwb-build-"))

    def build_constraints(self, config: Config, project: Project) -> Any:
        """The build's constraints (the ``build_constraints`` hook), ``None`` when
        ``build-constraint`` names no file; when it names one that no plugin read, an error."""
        found = self._pm.hook.build_constraints(config=config, project=project)
        if found is None and config.get("build-constraint"):
            raise ConfigError(
                f"build-constraint is set ({config.source('build-constraint')}), but no plugin "
                "reads build constraints files",
                hint="unblock the plugin that does (hwb plugins lists the blocked ones)",
            )
        return found

    def cli_options(self, command: str) -> list[CliOption]:
        """Every plugin's options for ``command``, the core's first. A flag the core takes is
        the core's alone; a flag several plugins declare is kept for each (the command line
        makes it one option that sets all their keys)."""
        options: list[CliOption] = []
        core_flags: set[str] = set()
        for impl in reversed(self._pm.hook.cli_options.get_hookimpls()):  # call order
            result = cast("list[CliOption] | None", impl.function(command=command))
            for option in result or []:
                if core_flags.intersection(option.flags):
                    continue
                if impl.plugin_name == CORE_PLUGIN_NAME:
                    core_flags.update(option.flags)
                options.append(option)
        return options

    def add_commands(self, cli: CommandLine) -> None:
        """Let every plugin add its commands (``add_commands`` hook), one plugin at a time: a
        plugin that fails, or takes a name already taken, is reported and the rest go on."""
        group = cli.group
        for impl in reversed(self._pm.hook.add_commands.get_hookimpls()):
            before = dict(group.commands)
            try:
                impl.function(cli=cli)
            except Exception as exc:
                group.commands.clear()
                group.commands.update(before)
                _warn(
                    f"plugin {impl.plugin_name!r} failed to add its commands: "
                    + _describe_exception(exc)
                )
                continue
            for name, command in list(group.commands.items()):
                if name in before and before[name] is not command:
                    group.commands[name] = before[name]
                    _warn(
                        f"plugin {impl.plugin_name!r} adds command {name!r}, which is taken; "
                        "left out"
                    )

    def failed(self, name: str) -> PluginRecord | None:
        """The record of plugin ``name`` when it failed to load (import or validation)."""
        record = self.records.get(name)
        return record if record is not None and record.status == "failed" else None

    def not_provided(self, name: str) -> str:
        """Why no strategy (or other feature) of the plugin called ``name`` is registered, in
        a few words: the plugin failed to load (and why), or no installed plugin provides it."""
        record = self.failed(name)
        if record is not None:
            return f"plugin {name!r} failed to load: {record.error}"
        return "no installed plugin provides it"

    def require_isolation(self, name: str) -> IsolationInfo:
        isolations = self.isolations()
        if name not in isolations:
            available = ", ".join(["auto", *isolations])
            if self.failed(name) is not None:
                # Installed but broken: what to fix is the plugin, not a missing install.
                raise UsageError(
                    f"isolation {name!r} is unavailable: {self.not_provided(name)}",
                    hint=f"fix or reinstall that plugin (`hwb plugins` shows it), or choose one "
                    f"of: {available}",
                )
            raise UsageError(
                f"unknown isolation {name!r}",
                hint=f"choose one of: {available} (or install the plugin that provides {name!r})",
            )
        return isolations[name]


class _Pluggy(pluggy.PluginManager):
    """pluggy's manager, reading a module plugin's names from its namespace: pluggy's own
    lookup (``inspect.getattr_static``, for classes and instances) costs ~40 µs a name."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        value = vars(plugin).get(name) if isinstance(plugin, types.ModuleType) else plugin
        if isinstance(value, types.FunctionType):
            opts = getattr(value, f"{self.project_name}_impl", None)
            return opts if isinstance(opts, dict) else None
        if value is plugin or isinstance(value, staticmethod | classmethod | types.MethodType):
            return super().parse_hookimpl_opts(plugin, name)
        return None


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _describe_validation(
    pm: PluginManager, plugin: object, exc: pluggy.PluginValidationError
) -> str:
    """One line naming what pluggy refused: for an implementation that takes an argument its
    hookspec lacks, the hook and the argument(s) (pluggy's own message spreads over lines)."""
    faults = []
    specs = {n: getattr(m, n) for _, m in pm.spec_modules for n in dir(m)}
    for attr in dir(plugin):
        spec = specs.get(attr)
        function = getattr(plugin, attr, None)
        if not hasattr(spec, "hwb_spec") or not hasattr(function, "hwb_impl"):
            continue
        unknown = [a for a in _arguments(function, required=True) if a not in _arguments(spec)]
        if unknown:
            takes = ", ".join(repr(a) for a in unknown)
            passes = ", ".join(_arguments(spec))
            faults.append(
                f"{attr}() takes {takes}, which hook {attr!r} does not pass (it passes: {passes})"
            )
    if faults:
        return "PluginValidationError: " + "; ".join(faults)
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return f"PluginValidationError: {text}" if text else "PluginValidationError"


def _arguments(function: Any, *, required: bool = False) -> list[str]:
    """Its arguments; ``required``: those pluggy fills in by name (positional, no default)."""
    import inspect

    params = inspect.signature(function).parameters.items()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [n for n, p in params if not required or (p.kind in kinds and p.default is p.empty)]


def _describe_exception(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
