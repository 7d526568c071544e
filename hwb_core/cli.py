"""The ``hwb`` command line (rich-click).

Exit codes: 0 built, 1 build failed, 2 usage or configuration error, 130 interrupted.
Errors are one line on stderr; ``-vvv`` adds the traceback. With ``--json`` stdout holds one JSON
object and nothing else.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from hwb_core import __version__
from hwb_core.errors import EXIT_BUILD_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, HwbError

_state: dict[str, Any] = {"verbosity": 0, "json": False}


def _on_sigterm(signum: int, frame: Any) -> NoReturn:
    # Treat SIGTERM like Ctrl-C so environments and containers are cleaned up.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):  # fast path: nothing else imported
        print(f"hwb {__version__}")
        return 0
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        pass
    if argv is None:  # the command itself, not a caller in-process
        from hwb_core.entry_points import start_early

        start_early(args, _leading_plugin_flags(args))
    try:
        return _run(args)
    except HwbError as exc:
        log = f" (whole log: {exc.log})" if exc.log else ""
        _print_error(exc.one_line() + log, exc.details)
        _trace()
        return exc.exit_code
    except KeyboardInterrupt:
        _close_status()
        print("error: interrupted; temporary environments were removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # the machine's, not hwb's: a full disk, a path in the way
        _trace()
        where = f" ({exc.filename})" if exc.filename else ""
        _print_error(
            f"{exc.strerror or exc}{where}",
            None,
            hint="check that the path is writable and the disk has room (-vvv shows where)",
        )
        return EXIT_BUILD_FAILED
    except Exception as exc:  # a bug: say so in one line, trace with -vvv
        _trace()
        _print_error(
            f"internal error: {type(exc).__name__}: {exc}",
            None,
            hint="run again with -vvv for a traceback and report it",
        )
        return EXIT_BUILD_FAILED
    finally:
        _close_status()


def _trace() -> None:
    """The traceback of the exception being handled, at ``-vvv``."""
    if _state["verbosity"] >= 3:
        import traceback

        traceback.print_exc()


def _close_status() -> None:
    """Take a live status line off the terminal before the last words are printed."""
    reporter = _state.pop("reporter", None)
    if reporter is not None:
        reporter.close()


def _print_error(message: str, details: str | None, hint: str | None = None) -> None:
    _close_status()
    if details and _state["verbosity"] < 1 and not _state.get("streamed"):
        lines = details.rstrip().splitlines()[-20:]
        print("\n".join("  | " + line for line in lines), file=sys.stderr)
    text = message + (f"; {hint}" if hint else "")
    print(f"error: {text}", file=sys.stderr)


def _wants_help(args: list[str]) -> bool:
    return not args or any(a in ("-h", "--help") for a in args)


def _leading_plugin_flags(args: list[str]) -> list[str]:
    """The values of ``-p`` before the command's name: plugins are loaded before the command
    line is parsed, since plugins add commands."""
    values: list[str] = []
    position = 0
    while position < len(args) and args[position].startswith("-"):
        arg = args[position]
        if arg == "-p" and position + 1 < len(args):
            values.append(args[position + 1])
            position += 1
        elif arg.startswith("-p"):
            values.append(arg[2:].lstrip("="))
        position += 1
    return values


def _start(args: list[str]) -> tuple[Any, Any]:
    """The command line with every plugin loaded, and the click it was made with. Start-up allocates many objects and frees
    few: the cyclic garbage collector, which would otherwise pass over them some fifty times
    for next to nothing (about 5% of start-up), is paused until the command runs."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        import click as plain_click

        from hwb_core.plugins import PluginManager, blocked_from_environment

        # rich-click (and rich, a tenth of a second of imports) only draws help pages: commands
        # parse with plain click, which rich-click wraps and re-exports unchanged.
        click: Any = plain_click
        if _wants_help(args):
            import rich_click

            from hwb_core.report import use_color

            click = rich_click
            if not use_color(sys.stdout):  # NO_COLOR, TERM=dumb: not even bold
                rich_click.rich_click.COLOR_SYSTEM = None
        blocked = blocked_from_environment(os.environ)
        blocked.update(v[3:] for v in _leading_plugin_flags(args) if v.startswith("no:"))
        pm = PluginManager(blocked=blocked)
        pm.load_core()
        pm.load_entry_points()
        return _make_cli(click, pm), click
    finally:
        if was_enabled:
            gc.enable()


def _run(args: list[str]) -> int:
    import click as plain_click

    cli, click = _start(args)
    try:
        result = cli.main(args=args, prog_name="hwb", standalone_mode=False)
    except plain_click.exceptions.NoArgsIsHelpError as exc:
        print(exc.format_message() if hasattr(exc, "format_message") else str(exc), file=sys.stderr)
        return EXIT_USAGE
    except click.ClickException as exc:
        hint = None
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f"see `{exc.ctx.command_path} --help`"
        _print_error(exc.format_message().rstrip("."), None, hint)
        return EXIT_USAGE
    except plain_click.exceptions.Abort:
        raise KeyboardInterrupt from None
    return result if isinstance(result, int) else 0


def _make_cli(click: Any, pm: Any) -> Any:
    from hwb_core.interfaces import CommandLine

    def make_session(ctx: Any, status: Any = None) -> Any:
        """The command's session; its reporter draws through ``status``, a live status line."""
        from hwb_core.pipeline import Session
        from hwb_core.report import ConsoleReporter

        reporter = ConsoleReporter(_state["verbosity"], status=status)
        _state["reporter"] = reporter
        return Session(pm, reporter)

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(
        __version__, "-V", "--version", prog_name="hwb", message="%(prog)s %(version)s"
    )
    @click.option(
        "-p",
        "plugin_flags",
        multiple=True,
        metavar="no:NAME",
        help="Block plugin NAME (repeatable; also HWB_DISABLE_PLUGINS=a,b).",
    )
    @click.pass_context
    def cli(ctx: Any, plugin_flags: tuple[str, ...]) -> None:
        """hwb, the Headless Wheel Builder: a correct, repaired wheel from a source tree or sdist."""
        for flag in plugin_flags:
            if not flag.startswith("no:") or not flag[3:]:
                raise click.UsageError(f"-p {flag}: expected no:NAME (for example -p no:NAME)")
        ctx.obj = {"pm": pm}
        sub = cli.commands.get(ctx.invoked_subcommand or "")
        if sub is not None and getattr(sub, "hwb_plugin_options", None) is not None:
            _add_plugin_options(click, sub, pm)

    pm.add_commands(
        CommandLine(
            group=cli,
            click=click,
            pm=pm,
            shared_options=functools.partial(shared_options, click),
            resolve_isolation=functools.partial(resolve_no_isolation, click, pm),
            config_settings=parse_config_settings,
            session=make_session,
            set_output=set_output,
            takes_plugin_options=takes_plugin_options,
            plugin_overrides=_plugin_overrides,
        )
    )
    return cli


#: The options several commands take, declared once (``CommandLine.shared_options``): each
#: name, the options it adds and the parameter each one gives the command.
_SHARED: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "isolation": (("--isolation",), {"metavar": "auto|NAME"}),
    "no_isolation": (("--no-isolation",), {"is_flag": True}),
    "python": (("--python", "python_spec"), {"metavar": "SPEC"}),
    "pythons": (("--python", "python_list"), {"multiple": True, "metavar": "LIST"}),
    "config_settings": (
        ("-C", "--config-setting", "config_settings"),
        {"multiple": True, "metavar": "KEY=VALUE"},
    ),
    "verbose": (("-v", "--verbose"), {"count": True, "metavar": ""}),
    "quiet": (("-q", "--quiet"), {"is_flag": True}),
    "json": (("--json", "as_json"), {"is_flag": True}),
}
_HELP = {
    "isolation": "Isolation strategy (default: auto; `hwb plugins` lists them).",
    "no_isolation": "Build in the interpreter's own environment (the strategy that declares it).",
    "python": "Interpreter: 3.12, 3.12.1, cp312 or a path.",
    "pythons": "Interpreters, comma-separated: 3.11,3.12.",
    "config_settings": "PEP 517 config setting (repeatable).",
    "verbose": "-v streams the backend's output, -vv shows commands, -vvv tracebacks.",
    "quiet": "Only errors on stderr.",
    "json": "Print one JSON object on stdout.",
}
_GROUPS = {"isolation": ("isolation", "no_isolation")}


def shared_options(click: Any, *names: str, **changes: Mapping[str, Any]) -> Any:
    """A decorator adding the shared options ``names`` to a command, in that order (see
    :class:`~hwb_core.interfaces.CommandLine`); ``changes`` replace keyword arguments of one:
    ``json={"help": 'Print {"jobs": [...]} on stdout.'}``."""
    options = [part for name in names for part in _GROUPS.get(name, (name,))]
    unknown = [name for name in [*options, *changes] if name not in _SHARED]
    if unknown:
        raise ValueError(f"no shared option {unknown[0]!r}; choose from {', '.join(_SHARED)}")

    def decorate(function: Any) -> Any:
        for name in reversed(options):
            decls, kwargs = _SHARED[name]
            changed = {"help": _HELP[name], **kwargs, **changes.get(name, {})}
            function = click.option(*decls, **changed)(function)
        return function

    return decorate


def set_output(verbosity: int = 0, json: bool = False, streamed: bool = False) -> None:
    """How the error that ends a command is printed (see :class:`CommandLine`)."""
    _state["verbosity"] = verbosity
    _state["json"] = json
    _state["streamed"] = streamed


def takes_plugin_options(command: Any) -> None:
    command.hwb_plugin_options = {}


def resolve_no_isolation(click: Any, pm: Any, isolation: str | None, no_isolation: bool) -> Any:
    """``--no-isolation`` is the strategy that declares it builds unisolated."""
    if not no_isolation:
        return isolation
    from hwb_core.isolation import unisolated

    name = unisolated(pm)
    if isolation not in (None, name):
        raise click.UsageError(f"--no-isolation contradicts --isolation {isolation}")
    return name


def parse_config_settings(items: Sequence[str]) -> dict[str, Any]:
    """``-C KEY=VALUE`` pairs; a key given twice becomes a list (as pypa/build does)."""
    from hwb_core.config import add_repeated
    from hwb_core.errors import UsageError

    settings: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key:
            raise UsageError(
                f"-C {item!r}: expected KEY=VALUE", hint="for example -C --build-option=--quiet"
            )
        add_repeated(settings, key, value)
    return settings


def _add_plugin_options(click: Any, command: Any, pm: Any) -> None:
    """Add plugins' options to ``command``. A flag that several plugins declare (the container
    isolations' ``--image``) is one option that sets every key bound to it."""
    own = {opt for param in command.params for opt in getattr(param, "opts", [])}
    mapping: dict[str, list[str]] = command.hwb_plugin_options
    added: dict[str, str] = {}  # flag -> dest
    for option in pm.cli_options(command.name):
        if own.intersection(option.flags):
            continue
        shared = next((added[f] for f in option.flags if f in added), None)
        if shared is not None:
            if option.key not in mapping[shared]:
                mapping[shared].append(option.key)
            param = next(p for p in command.params if p.name == shared)
            param.help = _shared_help(param.help or "", option.help)
            continue
        # One destination per flag: --cache-envs and --no-cache-envs may set the same key.
        dest = "plugin_" + option.flags[0].lstrip("-").replace("-", "_")
        kwargs: dict[str, Any] = {"help": option.help, "default": None}
        if option.is_flag:
            kwargs["is_flag"] = True
            if option.flag_value is not None:
                kwargs["flag_value"] = option.flag_value
        if option.metavar:
            kwargs["metavar"] = option.metavar
        if option.multiple:
            kwargs["multiple"] = True
        command.params.append(click.Option([*option.flags, dest], **kwargs))
        mapping[dest] = [option.key]
        added.update(dict.fromkeys(option.flags, dest))


def _shared_help(first: str, second: str) -> str:
    """``docker: build in this image.`` and ``podman: build in this image.`` make
    ``docker, podman: build in this image.``; different texts are each kept, with the plugins
    that say them (``venv: reuse ... docker, podman: prepared ...``)."""
    import re

    parts: dict[str, list[str]] = {}  # text -> the plugins saying it
    pattern = re.compile(r"(?:^|(?<=\. ))([\w-]+(?:, [\w-]+)*): ")
    for text in (first, second):
        marks = list(pattern.finditer(text))
        if not marks:
            parts.setdefault(text.strip(), [])
            continue
        for mark, following in zip(marks, [*marks[1:], None], strict=True):
            said = text[mark.end() : following.start() if following else len(text)].strip()
            names = parts.setdefault(said, [])
            names += [n for n in mark.group(1).split(", ") if n not in names]
    return " ".join(f"{', '.join(n)}: {t}" if n else t for t, n in parts.items() if t)


def _plugin_overrides(command: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """The keys set by the plugins' options that were given. An option not given is ``None``
    (its default) or ``()`` (a ``multiple`` one); every other value was given and is kept,
    falsy ones too: a flag whose ``flag_value`` is ``False``, ``0`` or ``""`` sets just that."""
    mapping: dict[str, list[str]] = getattr(command, "hwb_plugin_options", {})
    overrides: dict[str, Any] = {}
    for dest, value in values.items():
        if dest not in mapping or value is None or (isinstance(value, tuple) and not value):
            continue
        for key in mapping[dest]:
            overrides[key] = list(value) if isinstance(value, tuple) else value
    return overrides


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
