"""The objects that hooks receive and return.

Hooks choose; these objects do the work. A plugin author implements :class:`BuildEnv` (an
isolation strategy), returns :class:`PythonInfo` (a finder), :class:`RepairResult` (a repairer),
and declares :class:`ConfigKey` and :class:`CliOption` for the settings it reads.
"""

from __future__ import annotations

import abc
import dataclasses
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from hwb_core.config import Config
    from hwb_core.project import Project
    from hwb_core.target import Target


_T = TypeVar("_T")


class Scope(Protocol):
    """What outlives one build when a command runs several (``hwb matrix``): the toolkit's
    :class:`hwb.scope.Scope` is the implementation; the core uses only :meth:`work_dir`."""

    root: Path

    def work_dir(self) -> Path: ...

    def keep(self, key: Hashable, make: Callable[[], AbstractContextManager[_T]]) -> _T: ...

    def drop(self, key: Hashable, value: object) -> None: ...

    def on_stop(self, callback: Callable[[], None]) -> Callable[[], None]: ...


# --------------------------------------------------------------------------- interpreters


@dataclasses.dataclass(frozen=True)
class PythonInfo:
    """One interpreter, as it answered when asked (never guessed from its file name)."""

    path: str
    """Absolute path of the executable."""
    version: str
    """Full version, ``"3.12.1"``."""
    implementation: str
    """``"cpython"``, ``"pypy"``, ...: ``sys.implementation.name``."""
    abi_tag: str
    """The interpreter's ABI wheel tag, ``"cp312"``, ``"cp313t"``."""
    source: str
    """Name of the finder that found it: ``"uv"``, ``"pyenv"``, ``"system"``, ``"path"``."""
    platform_tag: str = ""
    """``sysconfig.get_platform()`` normalised as a wheel tag, ``"linux_x86_64"``."""
    marker_env: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)
    """PEP 508 marker environment of this interpreter (to evaluate requirements for it)."""
    free_threaded: bool = False
    """A CPython built without the GIL (``sysconfig.get_config_var("Py_GIL_DISABLED")``)."""

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", self.version)[:3])

    @property
    def short_version(self) -> str:
        return ".".join(str(p) for p in self.version_tuple[:2])

    @property
    def spec(self) -> str:
        """The ``--python`` that names it in short: ``3.12``, ``3.13t``, ``pypy3.9``."""
        prefix = "" if self.implementation == "cpython" else self.implementation
        return prefix + self.short_version + ("t" if self.free_threaded else "")

    def describe(self) -> str:
        name = {"cpython": "CPython", "pypy": "PyPy"}.get(self.implementation, self.implementation)
        threads = " free-threaded" if self.free_threaded else ""
        return f"{name} {self.version}{threads} ({self.path})"


_IMPL_PREFIXES = {"cp": "cpython", "pp": "pypy", "cpython": "cpython", "pypy": "pypy"}


@dataclasses.dataclass(frozen=True)
class PythonSpec:
    """What the user asked for with ``--python``: ``3.12``, ``3.12.1``, ``cp312``, ``pypy3.10``,
    a free-threaded CPython (``3.13t``, ``cp313t``) or a path to an executable.

    Make one with :meth:`parse` (``PythonSpec.parse("3.12")``); ``PythonSpec("3.12")``, the text
    alone, is parsed the same way. A version without ``t`` never means a free-threaded build,
    even a newer one."""

    raw: str
    """The text as given; ``""`` for :meth:`running`."""
    implementation: str | None = None
    """``"cpython"``, ``"pypy"``, or ``None`` for any."""
    version: tuple[int, ...] = ()
    """The version's parts given: ``(3, 12)`` for ``3.12``."""
    path: str | None = None
    """The executable, for a spec that names a file (then the other fields are blank)."""
    free_threaded: bool = False

    def __post_init__(self) -> None:
        if self.raw and self.path is None and not self.version and self.implementation is None:
            parsed = PythonSpec.parse(self.raw)  # the text alone: PythonSpec("3.12")
            for field in ("implementation", "version", "path", "free_threaded"):
                object.__setattr__(self, field, getattr(parsed, field))

    @classmethod
    def running(cls) -> PythonSpec:
        """The interpreter running hwb, by its path (``raw`` is ``""``): what a build uses
        when ``--python`` is not given."""
        import sys

        return cls(raw="", path=sys.executable)

    @classmethod
    def parse(cls, text: str) -> PythonSpec:
        """The spec ``text`` names (what ``--python`` takes); a
        :class:`~hwb_core.errors.UsageError` when it names none."""
        from hwb_core.errors import UsageError

        raw = text.strip()
        if not raw:
            raise UsageError(
                "--python is empty",
                hint="give a version such as 3.12, a tag such as cp312, or a path",
            )
        if "/" in raw or "\\" in raw or raw.startswith("."):
            return cls(raw=raw, path=raw)
        m = re.fullmatch(
            r"(cpython|pypy|cp|pp|python)?-?(\d)(?:\.?(\d+))?(?:\.(\d+))?(t)?", raw, re.I
        )
        if not m:
            raise UsageError(
                f"--python {raw!r} is not a version, tag or path",
                hint="use a form like 3.12, 3.12.1, cp312, 3.13t, pypy3.10 or /usr/bin/python3",
            )
        impl_text = (m.group(1) or "").lower()
        impl = _IMPL_PREFIXES.get(impl_text)
        parts = [int(g) for g in m.groups()[1:4] if g is not None]
        free_threaded = m.group(5) is not None
        if free_threaded and (impl == "pypy" or len(parts) < 2):
            raise UsageError(
                f"--python {raw!r}: only CPython 3.13 and later has free-threaded builds",
                hint="name one with its minor version: 3.13t, cp313t, 3.14t",
            )
        if free_threaded:
            impl = "cpython"
        return cls(raw=raw, implementation=impl, version=tuple(parts), free_threaded=free_threaded)

    def matches(self, info: PythonInfo) -> bool:
        if self.path is not None:
            return False
        if self.implementation and info.implementation != self.implementation:
            return False
        if info.free_threaded != self.free_threaded:
            return False
        return info.version_tuple[: len(self.version)] == self.version


# --------------------------------------------------------------------------- configuration


@dataclasses.dataclass(frozen=True)
class ConfigKey:
    """A setting a plugin (or the core) reads, declared through the ``config_schema`` hook.

    The key's name is its dotted path under ``[tool.hwb]``: ``"isolation.venv.use-uv"`` is
    ``use-uv`` in ``[tool.hwb.isolation.venv]``.
    """

    type: str
    """One of ``"str"``, ``"bool"``, ``"int"``, ``"float"``, ``"list"`` (of strings),
    ``"table"`` (of strings), ``"tables"`` (a list of tables, ``[[...]]``), ``"path"``,
    ``"command"`` (a string for the shell, or a list of arguments)."""
    default: Any = None
    help: str = ""
    choices: Sequence[str] | None = None
    env: str | None = None
    """Name of the ``HWB_*`` variable that sets it; derived from the key when omitted."""
    minimum: float | None = None
    """For ``"int"`` and ``"float"``: the least value accepted (a ``"float"`` must be finite
    too: ``nan`` and ``inf`` are refused)."""


@dataclasses.dataclass(frozen=True)
class CliOption:
    """A command-line option a plugin adds to ``hwb build`` (and ``hwb matrix``).

    Its value, when given, overrides the configuration key ``key``: plugins read settings from
    the configuration only, whatever layer they came from.
    """

    flags: Sequence[str]
    """``("--manylinux",)``."""
    key: str
    """The configuration key it sets, ``"isolation.docker.manylinux"``."""
    help: str = ""
    is_flag: bool = False
    metavar: str | None = None
    multiple: bool = False
    flag_value: Any = None
    """With ``is_flag``, the value the key gets when the flag is given (default ``True``), any
    value but ``None``, falsy ones included (``False``, ``0``, ``""``); a flag not given sets
    nothing: ``CliOption(("--no-repair",), "repair.mode", is_flag=True, flag_value="skip")``."""


@dataclasses.dataclass
class CommandLine:
    """What the ``add_commands`` hook receives: the ``hwb`` command group and the core's
    helpers for commands."""

    group: Any
    """The root ``click.Group``; add commands with ``@cli.group.command()``."""
    click: Any
    """The click module to build commands with (rich-click's when help is drawn)."""
    pm: Any
    """The plugin manager: ``pm.hook`` calls hooks, ``pm.records`` is what ``hwb plugins``
    lists (a command that builds gets it from its session, ``cli.session(ctx).pm``)."""
    session: Callable[..., Any]
    """``session(ctx, status=None)``: a :class:`hwb_core.pipeline.Session` (plugins, reporter)
    for a command; ``status``, a live status line (``step(message)``, ``output(line)``,
    ``print(text)``, ``stop()``), gets the steps and output and prints the messages, until the
    reporter is closed (before the core prints the error that ends the command)."""
    set_output: Callable[..., None]
    """``set_output(verbosity=0, json=False, streamed=False)``: how the core prints an error
    that ends the command (``streamed`` when the backend's output was shown already)."""
    takes_plugin_options: Callable[[Any], None]
    """``takes_plugin_options(command)``: the :func:`cli_options` of plugins for this command's
    name are added to it before it parses."""
    plugin_overrides: Callable[[Any, Mapping[str, Any]], dict[str, Any]]
    """``plugin_overrides(command, values)``: the configuration keys set by those options, from
    the command's keyword arguments."""
    shared_options: Callable[..., Callable[[Any], Any]]
    """``shared_options(*names, **changes)``: a decorator adding the options every hwb command
    spells alike, in the order named, each giving the command one parameter:
    ``"isolation"`` (``--isolation`` and ``--no-isolation``: ``isolation``, ``no_isolation``),
    ``"python"`` (``--python SPEC``: ``python_spec``), ``"pythons"`` (``--python LIST``,
    repeatable: ``python_list``), ``"config_settings"`` (``-C KEY=VALUE``, repeatable:
    ``config_settings``), ``"verbose"`` (``-v``, counted), ``"quiet"`` (``-q``), ``"json"``
    (``--json``: ``as_json``). ``changes`` replace one option's click arguments, for example
    its help: ``json={"help": 'Print {"jobs": [...]} on stdout.'}``."""
    resolve_isolation: Callable[[str | None, bool], str | None]
    """``resolve_isolation(isolation, no_isolation)``: the strategy those two options name
    (``--no-isolation`` is the strategy that declares it builds unisolated; ``None`` is the
    configuration's, ``auto`` by default); a usage error when they contradict each other."""
    config_settings: Callable[[Sequence[str]], dict[str, Any]]
    """``config_settings(items)``: the ``-C KEY=VALUE`` items as a mapping (a key given twice
    becomes a list, as pypa/build does); a usage error for an item without a key."""


# --------------------------------------------------------------------------- isolation


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What an isolation strategy can build, declared with :class:`IsolationInfo`.

    ``--isolation auto``, the fallback when a strategy cannot run, and ``hwb matrix``'s routing
    of each job choose among the registered strategies by these declarations alone (see
    ``docs/isolation.md``); no strategy is known to the core by name.
    """

    native: bool = False
    """Builds with an interpreter of this machine, for this machine's platform (venv, none)."""
    isolated: bool = True
    """Builds in an environment of its own. ``auto`` never chooses a strategy that is not
    (``none`` builds in the interpreter's own environment)."""
    container: bool = False
    """Builds in a container, with the image's interpreters, apart from this machine."""
    linux: Sequence[str] = ()
    """The portable Linux wheel families it produces: ``("manylinux", "musllinux")``."""
    architectures: Sequence[str] = ()
    """Linux architectures it builds (``x86_64``, ``aarch64``, as in wheel tags). Empty: this
    machine's only."""
    emulation: bool = False
    """Builds the architectures above that this machine cannot run, through an emulator that
    the kernel has registered (qemu in binfmt_misc)."""
    target_key: str | None = None
    """The configuration key through which it takes a target platform, written as an OCI
    platform (``linux/arm64``); ``None`` when it takes none."""
    family_keys: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """The keys through which it takes a policy of each Linux family, ``{"manylinux":
    "isolation.NAME.manylinux"}`` (values like ``2_28`` or ``2014``)."""
    image_key: str | None = None
    """The key that names the image it builds in, when it uses one."""
    hosts_key: str | None = None
    """The key of a table that lists the engines it may build on, by architecture
    (``{"aarch64": ["ssh://arm-box"]}``), when it can use several; ``hwb matrix`` spreads jobs
    over them."""
    host_key: str | None = None
    """The key naming the one engine a build uses (a URL or a context name), which ``hwb
    matrix`` sets for each job it sends to one of :attr:`hosts_key`'s engines."""
    rank: int = 50
    """Default place in the order of preference (lower first; ties by name). A user's
    ``isolation.preference`` list overrides it."""


@dataclasses.dataclass(frozen=True)
class IsolationInfo:
    """An isolation strategy a plugin provides (``register_isolation`` hook)."""

    name: str
    summary: str
    check: Callable[..., str | None] = lambda: None
    """Returns ``None`` when the strategy can run on this machine, else the reason it cannot
    (one line, with the fix). Called only when the strategy is about to be used (and by
    ``hwb matrix`` to plan its jobs).

    Written with one positional parameter, ``check(config)``, it receives the resolved
    :class:`~hwb_core.config.Config` of the build (or of ``hwb matrix``), so that it can read
    the plugin's own settings (``config.get("isolation.NAME.host")``); written with none, it is
    called with none, as before. hwb inspects the signature to tell the two apart."""
    capabilities: Capabilities = Capabilities()
    """What it can build: how ``auto``, fallbacks and ``hwb matrix`` choose it."""

    def why_unavailable(self, config: Config | None) -> str | None:
        """Run :attr:`check` (with ``config`` when it takes a parameter): ``None`` when the
        strategy can run here, else the reason it cannot."""
        if _takes_an_argument(self.check):
            return self.check(config)
        return self.check()


def _takes_an_argument(function: Callable[..., Any]) -> bool:
    """True when ``function`` accepts a positional argument (a callable whose signature cannot
    be read is taken to accept none, as every ``check`` did before it could take one)."""
    import inspect

    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(p.kind in positional or p.kind == p.VAR_POSITIONAL for p in parameters)


@dataclasses.dataclass(frozen=True)
class IsolationChoice:
    """What ``select_isolation`` decided for ``--isolation auto``, and why."""

    name: str
    reason: str
    fallbacks: Sequence[str] = ()
    """Strategies to try, in order, when ``name`` cannot run here."""


class Reporter(Protocol):
    """Where plugins send progress and output. Never writes to stdout."""

    verbosity: int

    def step(self, message: str) -> None: ...
    def info(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def debug(self, message: str) -> None: ...
    def output(self, line: str) -> None: ...


@dataclasses.dataclass
class EnvRequest:
    """Everything ``create_env`` needs to make a build environment."""

    python: PythonInfo
    project: Project
    config: Config
    reporter: Reporter
    work_dir: Path
    """A private temporary directory that the pipeline removes after the build."""
    extra_env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Variables the build's target needs (the ``prepare_target`` hook:
    ``MACOSX_DEPLOYMENT_TARGET``, ``ARCHFLAGS``, ``_PYTHON_HOST_PLATFORM`` on macOS). An
    environment must pass them to every command it runs, over the host's own."""
    fresh: bool = False
    """Make the environment afresh: reuse no cached or prepared environment (each build of
    ``--check-reproducible`` is made so)."""
    purpose: str = "build"
    """``"build"``, or ``"test"`` for an environment where a built wheel is installed and
    tried (the ``try_wheel`` hook): nothing is built there, so it needs no writable copy of the
    source (the project may be visible read-only), and it must be new, never a cached
    environment that a later build would reuse."""
    scope: Scope | None = None
    """Resources an isolation may keep for the builds still to come (:class:`hwb.scope.Scope`):
    ``hwb matrix`` opens one for all its jobs, and a container isolation keeps its started
    container there for the next job of the same image. ``None`` (``hwb build``): make
    everything for this build and remove it when the environment's context exits. With a scope,
    ``work_dir`` is inside ``scope.root``."""


@dataclasses.dataclass
class RunResult:
    returncode: int
    output: str
    """Combined stdout and stderr (tail only, for long outputs)."""


class BuildEnv(abc.ABC):
    """A place where a PEP 517 backend can run.

    It knows nothing of PEP 517 (the ``run_backend`` hook does that); it can install
    requirements and run commands. Plugins return one from ``create_env`` wrapped in a context
    manager whose exit removes everything the environment made, on failure and Ctrl-C too.
    """

    #: The isolation strategy's name, as in ``--isolation NAME``.
    isolation: str = ""

    def __init__(self, *, python: PythonInfo, source_dir: Path, reporter: Reporter) -> None:
        self.python = python
        self.source_dir = source_dir
        self.reporter = reporter

    @property
    @abc.abstractmethod
    def python_executable(self) -> str:
        """The interpreter that runs the backend (inside the environment)."""

    @abc.abstractmethod
    def install(self, requirements: Sequence[str]) -> None:
        """Make ``requirements`` (PEP 508 strings) importable by :attr:`python_executable`.

        Raises :class:`hwb_core.errors.BuildError` naming what could not be installed."""

    @abc.abstractmethod
    def run(
        self,
        cmd: Sequence[str],
        *,
        cwd: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> RunResult:
        """Run ``cmd`` in the environment, streaming its output to the reporter at ``-v``.

        With ``check`` a non-zero exit raises :class:`hwb_core.errors.BuildError` carrying the
        output's tail."""

    #: True when commands run on this machine and see host paths as they are. An environment
    #: elsewhere (a container) sets it False and translates paths with :meth:`env_path`.
    on_host: bool = True

    #: Python files to run in the backend's process once ``build_wheel`` has returned, with an
    #: argument each (``(script, argument)``: the ``after_build_scripts`` hook's answers, set by
    #: the core before the backend runs).
    after_build: Sequence[tuple[Path, str]] = ()

    #: What the backend's processes see of hwb's environment
    #: (:class:`hwb_core.backend_env.BackendEnvironment`, from ``[tool.hwb.env]``), set by the
    #: core once the environment is made; ``None``: the default rule.
    backend_environment: Any = None

    #: The build's pinned requirements (:class:`hwb.constraints.BuildConstraints`, from
    #: ``build-constraint``), set by the core while the backend's requirements are installed
    #: (``None`` otherwise, and when there is no such file). :meth:`install` applies it: the
    #: installer gets the file as constraints (``-c``), and when it has hashes, the
    #: requirements as :meth:`~hwb.constraints.BuildConstraints.pinned_lines` with hash
    #: checking required. A cached environment's key includes its ``sha256``.
    build_constraints: Any = None

    #: The hooks (``pm.hook``), set by the core once the environment is made, for those an
    #: environment calls itself (``backend_process``, ``backend_imported``); ``None`` outside
    #: a build.
    hooks: Any = None

    def run_backend_process(
        self,
        cmd: Sequence[str],
        *,
        cwd: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> RunResult:
        """Run a process of the build backend (its hooks: code from the project) like
        :meth:`run`, with ``env.set`` over ``extra_env``. An environment that passes hwb's own
        variables on (:class:`hwb.hostenv.HostBuildEnv`) withholds those that look like
        credentials here; one that passes none (a container) needs nothing more."""
        fixed = self.backend_environment.set if self.backend_environment else {}
        return self.run(cmd, cwd=cwd, extra_env={**(extra_env or {}), **fixed})

    def env_path(self, host_path: Path) -> str:
        """The path under which ``host_path`` is visible inside the environment."""
        return str(host_path)

    def install_wheel(
        self, wheel: Path, *, extras: Sequence[str] = (), requirements: Sequence[str] = ()
    ) -> None:
        """Install a built wheel (a host path, in a directory the environment sees: its work
        directory) with its dependencies, the ``extras`` named, and ``requirements``. The
        default hands :meth:`install` a direct reference (``name[extra] @ file:///...``); an
        environment whose installer cannot reach the index (an offline container) overrides
        it."""
        name = wheel.name.split("-", 1)[0]
        spec = f"{name}[{','.join(extras)}]" if extras else name
        self.install([f"{spec} @ {Path(self.env_path(wheel)).as_uri()}", *requirements])

    def describe(self) -> str:
        return f"{self.isolation} ({self.python.describe()})"

    def identity(self) -> dict[str, Any]:
        """What a provenance record says of this environment beyond its interpreter: a
        container's image reference and digest (``{"image": ..., "image_digest": ...}``).
        The default says nothing."""
        return {}


# --------------------------------------------------------------------------- repair


@dataclasses.dataclass
class RepairRequest:
    """What a repairer receives besides the wheel."""

    config: Config
    reporter: Reporter
    output_dir: Path
    """A private directory where the repaired wheel is to be written."""
    python: PythonInfo | None = None
    policy: str | None = None
    """The platform policy asked for (``manylinux_2_28``), ``None`` for the repairer's choice."""
    exclude: list[str] = dataclasses.field(default_factory=list)
    """Library name patterns (``fnmatch``) to leave out of the wheel."""
    lib_sdir: str | None = None
    """Where bundled libraries go in the wheel (auditwheel's ``-L``), ``None`` for the
    repairer's default (``.libs`` for auditwheel, ``.dylibs`` for delocate)."""
    strip: bool = False
    """Strip debugging symbols from the bundled libraries and extensions (auditwheel)."""
    target: Target | None = None
    """What the wheel was built for (:class:`hwb_core.target.Target`: operating system,
    architectures, macOS deployment target); ``None`` for ``hwb repair`` of outside wheels."""
    source_date_epoch: int | None = None
    """The build's ``SOURCE_DATE_EPOCH`` (the ``backend_environment`` hook): a repairer that
    rewrites the wheel gives it to its tool (auditwheel honours it), so that the same input
    gives the same bytes. ``None``: none is known."""


@dataclasses.dataclass
class RepairResult:
    """What a repairer did with a wheel."""

    path: Path
    """The wheel to publish: a new file in ``request.output_dir``, or the input when unchanged."""
    repaired: bool
    """True when the repairer changed the wheel (bundled libraries, retagged it)."""
    repairer: str | None = None
    """The plugin that handled the wheel (``"auditwheel"``), also when it left it unchanged (a
    wheel already ``manylinux``); ``None`` when no repairer acted: a pure wheel, repair
    skipped, no repairer for the wheel's platform."""
    policy: str | None = None
    """The platform tag the wheel meets (``manylinux_2_17_x86_64``, ``macosx_11_0_arm64``)."""
    bundled: list[str] = dataclasses.field(default_factory=list)
    """Libraries copied into the wheel, under the file names they had outside it
    (``libyaml-0.so.2.0.9``): what a deny list matches."""
    reason: str = ""
    """Why nothing was done (``"pure wheel: nothing to repair"``), or a summary of what was."""
    checked_by: list[str] = dataclasses.field(default_factory=list)
    """Organizations' policies that examined the wheel and let it through (plugin names)."""


# --------------------------------------------------------------------------- trying wheels


class CheckOutcome(Protocol):
    """What the core reads of one check's outcome (``--json``'s ``test``): the toolkit's
    :class:`hwb.WheelTestOutcome` is the implementation."""

    passed: bool
    command: str
    skipped: str
    duration_s: float

    def to_json(self) -> dict[str, Any]: ...


@dataclasses.dataclass
class CheckerRequest:
    """What the :func:`~hwb_core.hookspecs.wheel_checker` hook receives: all a check needs to
    try the wheel where it was built, given before the backend runs."""

    pm: Any
    """The :class:`~hwb_core.plugins.PluginManager`: its hooks (``pm.hook.create_env``) and
    strategies (``pm.isolations()``)."""
    config: Config
    reporter: Reporter
    project: Project
    python: PythonInfo
    """The interpreter of the build environment (a container's own, for a container build)."""
    isolation: str
    """The strategy the wheel is built in."""
    env_request: EnvRequest
    """The build environment's request: make it again (``purpose="test"``) for a fresh one."""
    work_dir: Path
    """A private directory, removed after the build; not made yet."""
    target: Target | None = None


# --------------------------------------------------------------------------- results


@dataclasses.dataclass
class BuildResult:
    path: Path
    python: PythonInfo
    isolation: str
    isolation_reason: str
    repair: RepairResult
    duration_s: float
    log: Path | None = None
    """The build's whole log (``hwb build``), ``None`` when none was kept."""
    tests: list[CheckOutcome] = dataclasses.field(default_factory=list)
    """What the ``try_wheel`` checks found (empty: none ran, ``--no-test``)."""
    source_date_epoch: int | None = None
    """The ``SOURCE_DATE_EPOCH`` the build ran with (``None``: none)."""
    source: Path | None = None
    """The source as given: a directory or an sdist."""
    made: dict[str, Any] = dataclasses.field(default_factory=dict)
    """What plugins noted while the wheel was made (the ``wheel_made`` hook's answers, merged:
    the provenance plugin's ``build_requirements``)."""
    build_constraints: Any = None
    """The :class:`hwb.constraints.BuildConstraints` the requirements were installed
    within, if any."""
    isolation_detail: dict[str, Any] = dataclasses.field(default_factory=dict)
    """What the environment tells of itself (:meth:`BuildEnv.identity`: a container's image
    and its digest)."""
    files: list[Path] = dataclasses.field(default_factory=list)
    """Files published beside the wheel, atomically with it (the ``publish_files`` hook: a
    provenance record)."""
    reproducible: Any = None
    """With ``--check-reproducible``: the ``Comparison`` of the wheel with a second build's
    (``identical``, ``describe()``, ``to_json()``; set by the ``reproducible`` plugin's
    ``build`` wrapper)."""
    config: Any = None
    """The build's resolved :class:`hwb_core.config.Config` (a plugin's own settings)."""
    config_settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The PEP 517 config settings the backend got."""
    plugin_records: list[Any] = dataclasses.field(default_factory=list)
    """The plugin manager's records of the plugins loaded for the build."""
