"""The options of ``hwb matrix`` that change a build, written back as arguments for the job
commands of ``--list`` and ``--emit``: a job built alone on another machine is built as the
whole matrix would build it here.

Carried: ``--isolation`` (``--no-isolation`` as the strategy it names), every ``-C``, and every
plugin option given (``--build-constraint``, ``--no-test``, ``--timeout``, ``--test-command``,
``--no-provenance``, ``--image``, ...). Not carried: what chooses the jobs or where their output
goes (``--python``, ``--platform``, ``--arch``, ``--only``, ``--shard``, ``-o``, ``--report``,
``--log-dir``, ``-j``, ``--fail-fast``, ``-v``, ``-q``, ``--json``), which each command sets
for its own job.

An option whose configuration key is a ``path`` names a file: it must exist (else a usage
error, exit 2), and it is written relative to the current directory, the repository root that
the plan job and the build jobs run in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hwb import Config, UsageError


def carried(
    command: Any,
    values: Mapping[str, Any],
    isolation: str | None,
    config_settings: Sequence[str],
    config: Config,
    source: Path,
    emit: bool,
) -> list[str]:
    """The arguments that repeat, for one job, the build options given to ``command``
    (``values``: its parameters by name, as click passed them)."""
    argv: list[str] = []
    if isolation:
        argv += ["--isolation", isolation]
    for item in config_settings:
        argv += ["-C", item]
    mapping: Mapping[str, Sequence[str]] = getattr(command, "hwb_plugin_options", {})
    for param in command.params:
        value = values.get(param.name)
        if param.name not in mapping or value is None or value == ():
            continue
        flag = _long_flag(param.opts)
        if param.is_flag:
            argv.append(flag)
            continue
        is_path = any(
            key in config.schema and config.schema[key].type == "path"
            for key in mapping[param.name]
        )
        for item in value if isinstance(value, tuple) else (value,):
            text = str(item)
            argv += [flag, file_argument(flag, text, source, emit) if is_path else text]
    return argv


def file_argument(flag: str, text: str, source: Path, emit: bool) -> str:
    """``text`` as the job commands name it, once it is known to name a file: relative to the
    current directory (as ``--build-constraint`` reads it) or to the project (as
    ``--dockerfile`` does), kept as written; an absolute one inside the current directory,
    made relative to it (the CI checkout has it there too)."""
    path = Path(text).expanduser()
    project = source if source.is_dir() else source.parent
    found = [path] if path.is_absolute() else [Path.cwd() / path, project / path]
    if not any(p.is_file() for p in found):
        raise UsageError(
            f"{flag} {text}: no such file",
            hint="a relative path is read from the current directory (or the project)",
        )
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        if emit:
            raise UsageError(
                f"{flag} {text}: the file is outside the current directory, so a CI job's "
                "checkout does not have it",
                hint="run hwb matrix --emit from the repository root, with files inside it",
            ) from None
        return text


def _long_flag(opts: Sequence[str]) -> str:
    return next((o for o in opts if o.startswith("--")), opts[0])
