"""Every hook hwb calls, in the order a build calls them.

Plugins implement hooks with :data:`hwb.hookimpl` and are registered through the ``hwb``
entry-point group (see ``docs/writing-plugins.md``). Hooks are always called with keyword
arguments, so an implementation may accept fewer arguments than the specification lists: new
arguments can be added later without breaking anybody.

The reference in ``docs/hooks.md`` is generated from these docstrings
(``python docs/gen_hooks.py``); a test fails when the two differ.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import subprocess

    from hwb_core.backend_env import BackendEnvironment
    from hwb_core.config import Config
    from hwb_core.interfaces import (
        BuildEnv,
        CheckerRequest,
        CheckOutcome,
        CliOption,
        CommandLine,
        ConfigKey,
        EnvRequest,
        IsolationChoice,
        IsolationInfo,
        PythonInfo,
        PythonSpec,
        RepairRequest,
        RepairResult,
        Reporter,
    )
    from hwb_core.plugins import PluginManager
    from hwb_core.project import Project
    from hwb_core.target import Target

PROJECT_NAME = "hwb"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --------------------------------------------------------------------------- declaring settings


@hookspec(historic=True)
def add_hookspecs(pm: PluginManager) -> None:
    """Declare hooks of this plugin's own, for other plugins to implement (as pytest's
    ``pytest_addhooks``): ``pm.add_hookspecs(module)`` with a module (or class) of functions
    marked ``@hookspec`` (``hwb.hookspec``), then call them with
    ``pm.hook.NAME(...)`` from the plugin's own code.

    **Called** once per plugin, as it is registered (before the plugins registered after it).
    An implementation of a hook that no loaded plugin declares is refused (the plugin fails
    to load, "implements unknown hook"), unless it is marked
    ``@hookimpl(optionalhook=True)``: do that to implement another plugin's hook, so that
    blocking that plugin (``-p no:NAME``) leaves yours idle rather than broken. The
    reference in ``docs/hooks.md`` documents each built-in plugin's own hooks under its name.

    **Returns** nothing; an exception is the plugin failing to load.

    .. versionadded:: 0.4
    """


@hookspec
def config_schema() -> Mapping[str, ConfigKey] | None:
    """Declare the configuration keys a plugin reads.

    **Called** once per command, after plugins are loaded and before any configuration is read.

    **Returns** a mapping of dotted key paths under ``[tool.hwb]`` to :class:`ConfigKey`, for
    example ``{"isolation.venv.use-uv": ConfigKey("bool", True)}``, or ``None``.

    **Combining**: all results are merged; two plugins declaring the same key is an error
    reported against the second one. A key that no plugin declares is an error in
    ``pyproject.toml`` (with the closest declared key suggested), so declare every key you read.

    .. versionadded:: 0.1
    """


@hookspec
def cli_options(command: str) -> Sequence[CliOption] | None:
    """Add command-line options to ``hwb build`` or ``hwb matrix``.

    **Called** when the command line of ``command`` (``"build"`` or ``"matrix"``) is parsed.

    **Returns** a list of :class:`CliOption`, each bound to a configuration key that must also be
    declared through :func:`config_schema`; a value given on the command line overrides that key.
    ``None`` adds nothing.

    **Combining**: all results are added, in call order. A flag the core takes is the core's
    alone (a plugin's option with that flag is left out); a flag that several plugins declare
    is one option that sets every key bound to it (``--image`` sets ``isolation.docker.image``
    and ``isolation.podman.image``: whichever strategy builds reads its own). The key stays
    settable from pyproject.toml and the environment.

    .. versionadded:: 0.1
    """


@hookspec
def add_commands(cli: CommandLine) -> None:
    """Add top-level commands to ``hwb`` (``hwb matrix``, ``hwb cache`` and ``hwb repair`` are
    added this way by the plugins that own them).

    **Called** once per run, after plugins are loaded and before the command line is parsed
    (never for ``hwb --version``).

    ``cli`` is a :class:`~hwb.CommandLine`: add a command with
    ``@cli.group.command()`` using the click module ``cli.click`` (plain click, or rich-click
    when help is drawn), make the command's :class:`~hwb.Session` with
    ``cli.session(ctx)``, say how errors are shown with ``cli.set_output(...)``, add the options
    every command spells alike with ``cli.shared_options("isolation", "python", ...)``, and let other
    plugins' :func:`cli_options` reach the command with ``cli.takes_plugin_options(command)``
    (their values then come from ``cli.plugin_overrides(command, values)``). A command returns
    its exit code; it raises :class:`hwb.HwbError` for an expected failure, which
    the core prints as one line.

    **Returns** nothing. A command name already taken (by the core or an earlier plugin) is
    reported as a warning and the later command left out; an exception is reported as the
    plugin failing, without stopping other commands.

    .. versionadded:: 0.2
    """


# --------------------------------------------------------------------------- pinned requirements


@hookspec(firstresult=True)
def build_constraints(config: Config, project: Project) -> Any:
    """Read the build's constraints file: the pins (and hashes) every install of its build
    requirements obeys.

    **Called** once per build, once the project's configuration is known, before the
    interpreter is looked for.

    **Returns** a :class:`hwb.constraints.BuildConstraints` for the file ``build-constraint``
    (``--build-constraint``, ``HWB_BUILD_CONSTRAINT``) names, or ``None`` when it names none.
    It raises :class:`hwb.ConfigError` for a file that cannot be read or used. The
    core hands the result to the environment (:attr:`BuildEnv.build_constraints`) while the
    backend's requirements are installed, and to the result (``BuildResult.build_constraints``).

    **Combining**: the first non-``None`` result wins. When ``build-constraint`` is set and no
    implementation returns a result (the plugin ``constraints`` blocked), the build stops with
    an error: it never runs without the pins.

    .. versionadded:: 0.4
    """


# --------------------------------------------------------------------------- interpreters


@hookspec
def list_pythons(config: Config) -> Sequence[PythonInfo] | None:
    """List every interpreter this finder knows about.

    **Called** by ``hwb pythons``, by ``hwb matrix`` when no versions are given, and to explain
    a failed :func:`find_python`.

    **Returns** a list of :class:`PythonInfo` (each asked for its version, never guessed from a
    file name), or ``None``.

    **Combining**: results are concatenated in call order (``uv``, then ``pylauncher`` and
    ``pyenv``, then ``system``, by ``tryfirst``/``trylast``); the same executable found twice is
    listed once, under the first finder.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def find_python(spec: PythonSpec, config: Config) -> PythonInfo | None:
    """Find the interpreter ``--python`` asked for.

    **Called** once per build, before the isolation strategy is chosen (and by commands that
    resolve an interpreter, through ``hwb.pythons.find``). ``spec`` is what ``--python`` says
    (:meth:`PythonSpec.parse`); without ``--python`` it is :meth:`PythonSpec.running`, the
    interpreter running hwb by its path, with ``raw`` ``""``.

    **Returns** the best matching :class:`PythonInfo` (newest patch release for ``3.12``), or
    ``None`` when this finder has none. A finder that knows the spec names a broken interpreter
    raises :class:`~hwb.PythonNotFound` with the reason.

    **Combining**: the first non-``None`` result wins. Built-in order: ``uv`` and ``path``
    (``tryfirst``), ``pylauncher`` (Windows only) and ``pyenv``, ``system`` (``trylast``).
    ``path`` answers a spec naming a file (and the interpreter running hwb); the others look
    for versions and return ``None`` for it at once. When every one returns ``None`` the build
    stops with one line (naming, for a version, what the finders list).

    .. versionadded:: 0.1
    .. versionchanged:: 0.4 paths and the running interpreter reach the hook (plugin ``path``).
    """


# --------------------------------------------------------------------------- the build and its source


@hookspec(firstresult=True)
def build(request: Any, session: Any) -> Any:
    """Wrap one build, from the request to the published wheel.

    **Called** once per build by :func:`hwb.build` (``hwb build`` once, ``hwb
    matrix`` once per job), with the :class:`hwb.BuildRequest` and the
    :class:`hwb.Session`.

    **Implement** it as a wrapper, ``@hookimpl(wrapper=True)``: ``result = yield`` runs the
    build (the core's, inside every other wrapper) and gives its
    :class:`hwb.BuildResult`, or raises its error; return the result, changed
    or not (``--check-reproducible`` builds a second time and sets ``result.reproducible``). A
    build started from a wrapper (``hwb.build``; with ``rebuild=True`` in the
    request it is made in fresh environments and announced to no plugin: no
    ``publish_files``, no ``wheel_built``) passes through every wrapper again.

    **Returns** the :class:`~hwb.BuildResult`.

    **Combining**: wrappers nest in pluggy's order around the core's build, which runs
    innermost.

    .. versionadded:: 0.4
    """


@hookspec(firstresult=True)
def prepare_source(
    source: Path, config: Config, reporter: Reporter
) -> AbstractContextManager[Path] | None:
    """Turn the source a command was given into a project directory.

    **Called** once per build, and once by ``hwb matrix`` and ``hwb lock`` for all their work,
    with ``source`` as given (it exists) and the configuration of the environment and the
    command line only (the project's own file is not read yet: for an sdist it is inside the
    archive).

    **Returns** a context manager that yields the project's root directory (``source`` itself
    for a directory; for an sdist, the tree extracted into a temporary directory) and, on exit,
    removes what it made; or ``None`` when ``source`` is not yours. Raise
    :class:`hwb.UsageError` for a source you refuse.

    **Combining**: the first non-``None`` result wins. When none answers, a directory is its
    own root and any other source is a usage error.

    .. versionadded:: 0.4
    """


@hookspec(firstresult=True)
def private_source(
    project: Project, source: Path, config: Config, outdir: Path, work_dir: Path, reporter: Reporter
) -> AbstractContextManager[Path] | None:
    """Give the build a tree of its own to work in, so that it never writes into the user's.

    **Called** once per build, after the isolation is chosen and before the environment is
    made, with the project :func:`prepare_source` gave, ``source`` as given (a directory or an
    sdist), the output directory (leave it out of a copy) and the build's private work
    directory (removed after the build).

    **Returns** a context manager that yields the root of the project to build (a copy under
    ``work_dir``; ``project.root`` for an sdist, extracted privately already; or with
    ``in-place`` the tree itself, locked until exit), or ``None``.

    **Combining**: the first non-``None`` result wins. When none answers, the build stops with
    a usage error: the core never builds in the user's tree on its own.

    .. versionadded:: 0.4
    """


@hookspec
def fresh_environments(config: Config) -> bool | None:
    """Ask that a build reuse nothing an isolation keeps between builds (a prepared
    environment, a started container).

    **Called** once per build, once its configuration is read.

    **Returns** ``True`` for fresh environments (:attr:`EnvRequest.fresh`), or ``None``.

    **Combining**: any ``True`` wins. A ``rebuild`` request is always fresh.

    .. versionadded:: 0.4
    """


@hookspec(firstresult=True)
def build_log(
    request: Any, project: Project, python: PythonInfo, isolation: str, reporter: Reporter
) -> AbstractContextManager[tuple[Path, Reporter]] | None:
    """Keep everything one build reports, in full, in a log.

    **Called** once per build, once the project, the interpreter and the isolation are known
    and the output directory was checked; ``request.keep_log`` says whether the command asked
    for a log (``hwb build`` does; ``hwb matrix`` keeps its own, one per job).

    **Returns** a context manager that yields ``(path, reporter)``: where the log is, and a
    :class:`~hwb.Reporter` that writes every message into it and passes it on
    to ``reporter``; the rest of the build reports through it. On exit the log is closed. The
    core names ``path`` in ``result.log`` and in the error of a failed build. ``None``: no log.

    **Combining**: the first non-``None`` result wins.

    .. versionadded:: 0.4
    """


@hookspec
def backend_env_rule(config: Config, os_name: str | None) -> BackendEnvironment | None:
    """Change which of hwb's variables the build backend gets, and set some for it.

    **Called** once per build, right after :func:`create_env` and before
    :func:`backend_environment`, with the build's configuration and the system whose wheels it
    builds (``"linux"``, ``"macos"`` or ``"windows"``; a container build is a Linux one), and by
    ``hwb lock`` for the backend it asks for its requirements (``os_name`` ``None``).

    **Returns** a :class:`~hwb.BackendEnvironment`: ``passed``, names or shell
    patterns the backend gets even though they look like credentials; ``blocked``, more withheld;
    ``set``, variables set for the backend. ``None``: no change. The core's default, withholding
    what looks like a credential (names matching ``CREDENTIAL_PATTERNS``, passwords in URLs),
    applies whatever the plugins return, also with none of them (the plugin ``env``, which reads
    ``[tool.hwb.env]``, blocked).

    **Combining**: all results are joined: ``passed`` and ``blocked`` in call order, ``set``
    merged in call order (a later one wins).

    .. versionadded:: 0.4
    """


@hookspec
def backend_environment(
    env: BuildEnv,
    source: Path,
    config: Config,
    target: Target,
    work_dir: Path,
    environ: Mapping[str, str],
    reporter: Reporter,
) -> Mapping[str, str] | None:
    """Set variables for the build backend that depend on the build (``SOURCE_DATE_EPOCH``).

    **Called** once per build, right after :func:`backend_env_rule`, with the environment (its
    ``backend_environment`` rule from :func:`backend_env_rule` is set), ``source`` as given (a
    directory or an sdist), the build's work directory and hwb's own environment.

    **Returns** variable names mapped to values, or ``None``. A ``SOURCE_DATE_EPOCH`` among
    them (digits) is the build's: the repair gets it (``RepairRequest.source_date_epoch``),
    :func:`hwb.wheelfile.rewrite` stamps what it writes with it, and the result records it
    (``BuildResult.source_date_epoch``).

    **Combining**: all results are merged, in call order; ``set`` in ``[tool.hwb.env]`` wins
    over them.

    .. versionadded:: 0.4
    """


# --------------------------------------------------------------------------- targets


@hookspec(firstresult=True)
def resolve_target(
    asked: str | None, config: Config, python: PythonInfo, environ: Mapping[str, str]
) -> Target | None:
    """Turn ``--platform`` into the :class:`~hwb.Target` of one build.

    **Called** once per build, after the interpreter is found. ``asked`` is ``--platform`` (the
    ``platform`` key) or ``None`` for this machine; ``environ`` is hwb's environment.

    **Returns** a resolved ``Target`` (every blank filled in: architecture, macOS deployment
    target) when ``asked`` names a platform this plugin serves (or, with ``None``, when this
    machine is one), or ``None``. Raise :class:`hwb.UsageError` for a target that
    cannot be built here (macOS wheels off macOS).

    **Combining**: the first non-``None`` result wins. The ``linux`` plugin answers last
    (``trylast``): it reads ``OS[-ARCH]`` (Linux targets above all; another system than this
    machine's is an error) and this machine when it runs Linux. When none answers, a build
    without ``--platform`` is for this machine, and a platform asked for is unknown.

    .. versionadded:: 0.2
    .. versionchanged:: 0.4 the ``OS[-ARCH]`` reading moved from the core to the ``linux``
       plugin.
    """


@hookspec
def prepare_target(
    target: Target, project: Project, environ: Mapping[str, str], reporter: Reporter
) -> Mapping[str, str] | None:
    """Get ready to build for ``target``, before an environment is made.

    **Called** once per build. Check what the target needs on this machine (a compiler
    toolchain) and fail early, in one line, when it is missing.

    **Returns** the variables the backend must hear to build for it
    (``MACOSX_DEPLOYMENT_TARGET``, ``ARCHFLAGS`` for macOS), passed to every command of the
    build environment over the host's own, or ``None``.

    **Combining**: all results are merged, in call order.

    .. versionadded:: 0.2
    """


@hookspec
def check_wheel(target: Target, wheel: Path, reporter: Reporter) -> None:
    """Compare a wheel as the backend built it with its target, before repair.

    **Called** once per build, with the wheel in a private directory.

    **Returns** nothing: raise :class:`hwb.BuildError` when the wheel cannot be
    what was asked for (another architecture), warn through ``reporter`` for a difference that
    is not fatal. Linux wheels are left to the repairers.

    .. versionadded:: 0.2
    """


# --------------------------------------------------------------------------- isolation


@hookspec
def register_isolation() -> IsolationInfo | Sequence[IsolationInfo] | None:
    """Announce the isolation strategies a plugin provides.

    **Called** once per command, to validate ``--isolation NAME`` and to list strategies.

    **Returns** an :class:`IsolationInfo` (name, one-line summary and an availability check) or a
    list of them, or ``None``.

    **Combining**: all results are collected; a name provided twice is reported and the first
    registration kept.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def select_isolation(
    project: Project,
    python: PythonInfo,
    config: Config,
    strategies: Sequence[IsolationInfo],
    target_arch: str | None,
) -> IsolationChoice | None:
    """Choose a strategy for ``--isolation auto``.

    **Called** once per build when the isolation asked for is ``auto``, never otherwise.
    ``strategies`` holds every registered strategy, most preferred first (``isolation.preference``,
    then each one's declared rank); ``target_arch`` is the Linux architecture asked for with
    ``--platform``, or ``None``.

    **Returns** an :class:`IsolationChoice` (a strategy name, the reason shown to the user, and
    the fallbacks to try in order when it cannot run here), or ``None`` to let later
    implementations decide.

    **Combining**: the first non-``None`` result wins. The built-in plugin ``auto`` runs last
    (``trylast``) and applies the documented rule to the strategies' declared
    :class:`~hwb.Capabilities` (``docs/isolation.md``): native strategies for
    pure projects, those that build manylinux wheels for extension modules on Linux, those
    that emulate another architecture for a foreign ``--platform``. When the chosen strategy's
    check says it cannot run here, the build tries its fallbacks in order and says why. When
    every implementation returns ``None`` (``auto`` blocked), ``--isolation auto`` fails in one
    line; a strategy named with ``--isolation`` is unaffected.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 ``strategies``, ``target_arch`` and ``IsolationChoice.fallbacks``.
    .. versionchanged:: 0.4 the rule is plugin ``auto``'s (it was the core's).
    """


@hookspec(firstresult=True)
def create_env(isolation: str, request: EnvRequest) -> AbstractContextManager[BuildEnv] | None:
    """Make the build environment for strategy ``isolation``.

    **Called** once per build, after the interpreter and strategy are known.

    **Returns** a context manager that yields a :class:`BuildEnv` and, on exit, removes all it
    made, also after an error or Ctrl-C. Return ``None`` when ``isolation`` is not yours. When
    ``request.scope`` is set (``hwb matrix``: one :class:`~hwb.scope.Scope` for all its
    builds), what is costly to make and safe to share may be kept there for the next builds
    instead (nothing is kept unless a plugin keeps it: the built-in container isolations start
    a container per build, and per test, even in a matrix); what is the build's own must still
    go on exit.

    **Combining**: the first non-``None`` result wins.

    .. versionadded:: 0.1
    """


# --------------------------------------------------------------------------- building


@hookspec(firstresult=True)
def build_work_dir() -> Path | None:
    """Give the build its temporary directory.

    **Called** once per build (not in ``hwb matrix``, whose jobs get theirs from its scope),
    before the environment is made.

    **Returns** a new, empty directory of this user's (the environment, the wheel and the
    control files go there; the core removes it when the build ends), or ``None``: the core
    makes one (``hwb-build-*`` in the temporary directory). The backend started ahead returns
    the one its waiting process was started for.

    **Combining**: the first non-``None`` result wins.

    .. versionadded:: 0.4
    """


@hookspec(firstresult=True)
def backend_process(
    cmd: Sequence[str], cwd: Path, environ: Mapping[str, str], env: BuildEnv
) -> subprocess.Popen[str] | None:
    """Hand over a process of the build backend that is already running.

    **Called** by an environment on this machine (:class:`hwb.hostenv.HostBuildEnv`) each
    time it is about to start a process of the build backend: ``cmd`` in ``cwd`` with exactly
    the variables ``environ``.

    **Returns** a process that behaves as ``cmd`` started now would, started as
    ``hwb.process.spawn`` starts one (text mode, stdout and stderr together on a pipe, a
    process group of its own): the core follows it (its output, the deadline, Ctrl-C, its exit
    status) as if it had started it. ``None``: the core starts ``cmd`` itself.

    **Combining**: the first non-``None`` result wins.

    .. versionadded:: 0.4
    """


@hookspec
def backend_imported(
    env: BuildEnv, backend: str, modules: Sequence[str], paths: Sequence[str]
) -> None:
    """Learn what the build backend imported.

    **Called** after the core's driver ran both PEP 517 hooks in one process on this machine,
    with the ``backend`` (``build-backend``), the ``modules`` its hooks imported from outside
    the project, and the interpreter's ``sys.path`` (``paths``).

    **Returns** nothing.

    .. versionadded:: 0.4
    """


@hookspec(firstresult=True)
def run_backend(
    env: BuildEnv,
    project: Project,
    config_settings: Mapping[str, Any],
    wheel_dir: Path,
    reporter: Reporter,
) -> Path | None:
    """Build one wheel in ``env`` through the project's PEP 517 backend.

    **Called** once per build, inside the environment :func:`create_env` made.

    **Returns** the path of the wheel written into ``wheel_dir`` (an empty directory the core
    made), or ``None`` to let the next
    implementation build. It raises :class:`hwb.BackendError` when the backend fails.

    **Combining**: the first non-``None`` result wins. The core's implementation runs last: it
    installs ``build-system.requires``, asks ``get_requires_for_build_wheel`` and installs that,
    then calls ``build_wheel``, in processes of ``env.run_backend_process`` with paths as
    ``env.env_path`` gives them: it serves environments apart from the host (a container) too.
    Implement this hook to build some other way.

    .. versionadded:: 0.1
    """


@hookspec
def after_build_scripts(
    env: BuildEnv, config: Config, work_dir: Path
) -> Sequence[tuple[Path, str]] | None:
    """Python files to run in the build backend's own process once ``build_wheel`` has
    returned, while what the backend imported and what the environment holds are still there
    (the provenance plugin lists the environment's distributions this way, saving a process).

    **Called** once per build, before :func:`run_backend`, with the build environment, the
    configuration and the build's work directory (which the environment sees: ``env.env_path``).
    Not called for the second build of ``--check-reproducible``.

    **Returns** ``(script, argument)`` pairs, or ``None``: ``script`` a host path to a Python
    file that imports nothing from hwb (it runs under the build's interpreter, 3.8 and newer)
    and defines ``after_build(argument, paths)``; ``paths`` is the interpreter's ``sys.path``
    before any ``backend-path``. An environment apart from the host (a container) runs a copy
    of it. A script that raises is passed over, as is every script when a plugin's
    :func:`run_backend` runs the backend some other way: look for what it leaves (a file
    named by ``argument``) in :func:`wheel_made`, and find it otherwise when it is not there.

    **Combining**: every implementation is called; the scripts run in call order.

    .. versionadded:: 0.4
    """


@hookspec
def wheel_made(
    env: BuildEnv, wheel: Path, config: Config, work_dir: Path, reporter: Reporter
) -> Mapping[str, Any] | None:
    """Note what the build environment tells of a wheel just made, while it is still there.

    **Called** once per build, right after :func:`run_backend` returned ``wheel`` (a file in
    the work directory, before it is repaired), with the environment still alive
    (``env.run`` works). Not called for the second build of ``--check-reproducible``.

    **Returns** a mapping of names to values kept in the
    :class:`hwb_core.interfaces.BuildResult`'s ``made`` (the provenance plugin's
    ``build_requirements``: what the environment held), or ``None``. Exceptions are errors of
    the build.

    **Combining**: every implementation is called; the mappings are merged, a later one's
    name winning.

    .. versionadded:: 0.4
    """


@hookspec(firstresult=True)
def repair_stage(
    session: Any,
    wheel: Path,
    env: BuildEnv | None,
    config: Config,
    python: PythonInfo | None,
    output_dir: Path,
    target: Target | None,
) -> RepairResult | None:
    """Take a built wheel through repair: the stage between building a wheel and trying it.

    **Called** once per wheel a build makes, after :func:`check_wheel`, with the environment
    the wheel was built in, its interpreter and target, and an empty ``output_dir`` to write
    into; and by ``hwb repair`` through :func:`hwb.repair`, with ``env``, ``python`` and
    ``target`` ``None`` (repair on the host). ``session`` carries the plugin manager and the
    reporter.

    **Returns** a :class:`RepairResult` naming the wheel to try and publish (the input itself
    when nothing was done), or ``None`` to leave the stage to another implementation. It raises
    :class:`hwb.RepairError` or :class:`hwb.PolicyViolation` to fail the build. The ``repair``
    plugin implements it: it reads ``[tool.hwb.repair]`` and calls :func:`repair_wheel` as
    ``mode`` says.

    **Combining**: the first non-``None`` result wins. When none answers (the ``repair`` plugin
    blocked), a build publishes the wheel as built, with a warning, and ``hwb repair`` fails.

    .. versionadded:: 0.4
    """


@hookspec(firstresult=True)
def repair_wheel(wheel: Path, env: BuildEnv | None, request: RepairRequest) -> RepairResult | None:
    """Make a built wheel portable (bundle outside libraries, retag it).

    **Called** by the ``repair`` plugin's :func:`repair_stage`: once per wheel, after
    :func:`run_backend` (with the environment the wheel was built in, so a repairer can run its
    tool where the build ran) and by ``hwb repair`` (with ``env=None``: repair on the host).

    Not called at all when ``[tool.hwb.repair] mode`` is ``skip`` (``--no-repair``). ``request``
    carries the settings of ``[tool.hwb.repair]`` (``policy``, ``exclude``, ``lib_sdir``,
    ``strip``); an environment with ``on_host`` false runs commands elsewhere (a container):
    install the tool with ``env.install`` and pass paths through ``env.env_path``.

    **Returns** a :class:`RepairResult` naming the wheel to publish (written into
    ``request.output_dir``, or the input itself when nothing needed doing: a wheel already
    tagged for its policy), with ``repairer`` set to the plugin's name, or ``None`` when the
    wheel is not this repairer's (another platform, or a pure wheel). The ``repair`` plugin's
    own implementation runs last (``trylast``) and answers for a pure wheel (platform ``any``): the
    input unchanged, ``repairer`` ``None`` and ``reason`` ``"pure wheel: nothing to repair"``.
    When every implementation returns ``None`` the wheel is published as built. A
    failed repair raises :class:`hwb.RepairError` and nothing is published, unless
    ``mode`` is ``warn``: then the wheel is published as built, with a warning.

    **Combining**: the first non-``None`` result wins. Organizations' policies wrap this hook,
    ``@hookimpl(wrapper=True, tryfirst=True)``: before ``yield`` they may add to
    ``request.exclude`` or set ``request.policy``; ``result = yield`` hands them the
    repairer's result (``None`` when no repairer took the wheel; a repairer's exception comes
    out of the ``yield``); after it they may refuse the wheel by raising
    :class:`hwb.PolicyViolation` (never turned into a warning), or change it by
    writing a new wheel into ``request.output_dir`` (:func:`hwb.wheelfile.rewrite`), and
    they return the result, with their name appended to ``result.checked_by``. See
    ``docs/repair.md``.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def wheel_checker(
    request: CheckerRequest,
) -> AbstractContextManager[Callable[[Path], Sequence[CheckOutcome]]] | None:
    """Make the stage that tries a built, repaired wheel before it is published (the
    ``try-wheel`` plugin runs every :func:`try_wheel` implementation there: the project's
    tests, the import check, organizations' checks).

    **Called** once per build, once the build environment is made and before the backend
    runs, so that a checker can get ready while the wheel is being built (the ``try-wheel``
    plugin starts making the first fresh container then). Not called when
    ``[tool.hwb.test] enabled`` is false (``--no-test``). ``request`` is a
    :class:`~hwb.CheckerRequest`.

    **Returns** a context manager, entered at once and left when the build ends (also after an
    error), that yields a function: the core calls it once, after :func:`repair_wheel`, with
    the wheel about to be published (in a private directory), and it returns what each check
    found (``--json``'s ``test.checks``) or raises :class:`hwb.WheelTestFailed`
    (exit code 1, nothing is published). ``None`` when this plugin tries no wheels.

    **Combining**: the first non-``None`` result wins. When none answers (the ``try-wheel``
    plugin blocked), wheels are published untried, as with ``--no-test``.

    .. versionadded:: 0.4
    """


@hookspec
def publish_files(result: Any, reporter: Reporter) -> Mapping[str, bytes] | None:
    """Files to publish beside a wheel, atomically with it (a provenance record, a
    signature).

    **Called** once per build, after :func:`try_wheel` and before the wheel reaches the
    output directory, with the :class:`hwb.BuildResult` it will have
    (``result.path`` is where the wheel is about to be; its bytes are those of the wheel about
    to be published, readable at ``result.repair.path``). Not called for the second build of
    ``--check-reproducible``.

    **Returns** file names (no directories) mapped to their content, or ``None``. The core
    writes each under a temporary name in the output directory, renames the wheel into place
    and then each file; when any step fails none of them is left, nor the wheel. They are
    listed in ``result.files`` and ``--json``'s ``files``.

    **Combining**: every implementation is called; a name given twice is written once, with
    the last content.

    .. versionadded:: 0.3
    """


@hookspec
def wheel_built(result: Any, reporter: Reporter) -> None:
    """Observe a published wheel (notifications, signing, upload queues).

    **Called** once per wheel after it reached the output directory, with the
    :class:`hwb.BuildResult`.

    **Returns** nothing; exceptions are errors of the build.

    .. versionadded:: 0.1
    """
