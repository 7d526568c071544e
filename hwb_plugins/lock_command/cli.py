"""``hwb lock [SRC]``: pin SRC's build requirements, with hashes, into a constraints file.

1. ``[build-system] requires`` is resolved by uv (:mod:`.resolve`);
2. unless ``--no-backend-requires``, the backend is asked what else it needs to build a wheel
   (``get_requires_for_build_wheel``, in a throwaway environment holding the pins, in a private
   copy of the source) and, when it names more, everything is resolved again;
3. the file is written atomically (default: ``build-constraints.txt`` in SRC).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hwb import (
    BackendEnvironment,
    BuildError,
    CommandLine,
    Project,
    PythonInfo,
    Reporter,
    installer_environment,
)

DEFAULT_NAME = "build-constraints.txt"


def register(cli: CommandLine) -> None:
    click = cli.click

    @cli.group.command()
    @click.argument("src", default=".", type=click.Path(path_type=Path))
    @click.option(
        "-o",
        "--output",
        type=click.Path(path_type=Path),
        help=f"The file to write (default: {DEFAULT_NAME} in SRC).",
    )
    @cli.shared_options(
        "pythons",
        pythons={
            "metavar": "VERSION",
            "help": "Resolve for this Python version, 3.12 (repeatable; default: one universal "
            "resolution from the project's lowest requires-python).",
        },
    )
    @click.option(
        "--platform",
        "platforms",
        multiple=True,
        metavar="PLATFORM",
        help="Resolve for this platform, as uv's --python-platform names it: linux, macos, "
        "windows, x86_64-manylinux_2_28, aarch64-apple-darwin (repeatable).",
    )
    @click.option(
        "--no-backend-requires",
        is_flag=True,
        help="Pin [build-system] requires only; do not ask the backend what more it needs.",
    )
    @cli.shared_options(
        "verbose",
        "quiet",
        "json",
        verbose={"help": "-v shows more."},
        json={"help": "Print a JSON object on stdout."},
    )
    @click.pass_context
    def lock(
        ctx: Any,
        src: Path,
        output: Path | None,
        python_list: tuple[str, ...],
        platforms: tuple[str, ...],
        no_backend_requires: bool,
        verbose: int,
        quiet: bool,
        as_json: bool,
    ) -> int:
        """Write a build constraints file: SRC's build requirements, and what its backend asks
        for, pinned with hashes by uv's resolver (for build-constraint / --build-constraint)."""
        from hwb import prepared_source
        from hwb.constraints import parse
        from hwb_plugins.lock_command.resolve import compile_pins

        pythons = python_list
        cli.set_output(verbosity=-1 if quiet else verbose, json=as_json, streamed=verbose >= 1)
        session = cli.session(ctx)
        reporter = session.reporter
        target = output or (src / DEFAULT_NAME if src.is_dir() else Path(DEFAULT_NAME))
        with prepared_source(src, session) as root:
            project = Project.load(root)
            config = session.config_for(project)
            requirements = list(project.build_requires)
            lowest = lowest_python(project.requires_python, pythons)
            reporter.step("resolving " + ", ".join(requirements) + " with uv")
            lines, commands = compile_pins(
                requirements, pythons=pythons, platforms=platforms, lowest_python=lowest
            )
            asked: list[str] = []
            if not no_backend_requires:
                from hwb import pythons as finder

                python = finder.find(session.pm, config, pythons[0] if pythons else None)
                rule = BackendEnvironment.from_plugins(session.pm.hook, config)
                asked = backend_requires(project, "\n".join(lines) + "\n", python, reporter, rule)
                extra = [r for r in asked if r not in requirements]
                if extra:
                    reporter.step("the backend asks for " + ", ".join(extra) + ": resolving again")
                    lines, commands = compile_pins(
                        requirements + extra,
                        pythons=pythons,
                        platforms=platforms,
                        lowest_python=lowest,
                    )
        text = header(project.name, requirements, asked, commands) + "\n".join(lines) + "\n"
        write_atomically(target, text)
        pins = parse(text, target)
        if as_json:
            record = {
                "path": str(target.absolute()),
                "requirements": requirements,
                "backend_requires": asked,
                "pins": [
                    {"requirement": p.requirement, "marker": p.marker, "hashes": list(p.hashes)}
                    for p in pins
                ],
            }
            print(json.dumps(record, indent=2))
        elif not quiet:
            print(f"wrote {target} ({len(pins)} pins, with hashes)", file=sys.stderr)
        return 0


def lowest_python(requires_python: str | None, pythons: Sequence[str]) -> str:
    """The lowest version a universal resolution covers: the project's ``requires-python``
    lower bound, else the running interpreter's version."""
    if pythons:
        return min(pythons, key=lambda v: tuple(int(p) for p in re.findall(r"\d+", v)))
    found = re.search(r">=?\s*(\d+\.\d+)", requires_python or "")
    return found.group(1) if found else f"{sys.version_info[0]}.{sys.version_info[1]}"


def header(
    name: str, requirements: Sequence[str], asked: Sequence[str], commands: Sequence[str]
) -> str:
    lines = [
        f"# Build constraints for {name}, written by hwb lock.",
        "# Build requirements: " + (", ".join(requirements) or "none"),
        "# The backend asked for: " + (", ".join(asked) or "nothing more"),
        *(f"# Resolved with: {command}" for command in commands),
        "# Use it with --build-constraint FILE or build-constraint in [tool.hwb].",
    ]
    return "\n".join(lines) + "\n"


def backend_requires(
    project: Project,
    pins: str,
    python: PythonInfo,
    reporter: Reporter,
    rule: BackendEnvironment | None = None,
) -> list[str]:
    """What the backend's ``get_requires_for_build_wheel`` answers, run with ``python`` in a
    throwaway environment holding the pinned requirements, in a private copy of the source,
    with the variables a build's backend gets (``rule``: no credentials); the installer gets
    them too, with the index settings, and runs outside the source tree."""
    import subprocess

    from pyproject_hooks import BuildBackendHookCaller

    from hwb.constraints import BuildConstraints, install_error, parse
    from hwb.snapshot import copy_tree
    from hwb_plugins.lock_command.resolve import find_uv

    uv = find_uv()
    with tempfile.TemporaryDirectory(prefix="hwb-lock-") as tmp:
        work = Path(tmp)
        env_dir = work / "env"
        constraints = BuildConstraints(
            path=work / DEFAULT_NAME,
            source="hwb lock",
            text=pins,
            pins=parse(pins, Path("uv output")),
        )
        reporter.step(f"asking the backend what it needs ({python.describe()})")
        files = constraints.install_files(project.build_requires, python.marker_env, work / "in")
        bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
        venv = {
            "VIRTUAL_ENV": str(env_dir),
            "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
        }
        installer = {**installer_environment(os.environ, rule), **venv}
        env = {**(rule or BackendEnvironment()).apply(os.environ), **venv}
        for cmd in (
            [uv, "venv", "--quiet", "--no-config", "--python", python.path, str(env_dir)],
            [uv, "pip", "install", "--quiet", "--python", str(bin_dir / "python"), *files.args()],
        ):
            if project.build_requires or cmd[1] == "venv":
                done = subprocess.run(
                    cmd,
                    capture_output=True,
                    text=True,
                    env=installer,
                    cwd=work,
                    stdin=subprocess.DEVNULL,
                )
                if done.returncode != 0:
                    raise install_error(
                        files if cmd[1] == "pip" else None,
                        done.stderr,
                        BuildError(
                            "could not make an environment to ask the backend what it needs",
                            hint="the output above shows why; or skip it with --no-backend-requires",
                            details=done.stderr,
                        ),
                    )
        source, _ = copy_tree(project.root, work / "src")

        def runner(cmd: Sequence[str], cwd: str | None = None, extra_environ: Any = None) -> None:
            done = subprocess.run(
                list(cmd),
                cwd=cwd,
                env={**env, **(extra_environ or {})},
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
            )
            for line in (done.stdout + done.stderr).splitlines():
                reporter.output(line)
            if done.returncode != 0:
                raise BuildError(
                    f"the build backend {project.build_backend!r} failed in get_requires_for_build_wheel",
                    hint="-v shows its output; or skip it with --no-backend-requires",
                    details=done.stderr,
                )

        hooks = BuildBackendHookCaller(
            str(source),
            project.build_backend,
            backend_path=project.backend_path,
            runner=runner,
            python_executable=str(bin_dir / "python"),
        )
        return list(hooks.get_requires_for_build_wheel({}))


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
