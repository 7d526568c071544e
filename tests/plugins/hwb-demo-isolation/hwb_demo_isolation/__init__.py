"""Isolation ``demo``: a third party's isolation strategy for hwb.

The environment is made by the standard library's ``venv`` module (no pip inside) and filled by
``uv pip install --python``. Every step appends one JSON line to the file named by the setting
``isolation.demo.marker`` (``--demo-marker FILE`` or ``HWB_ISOLATION_DEMO_MARKER``), so a test
can prove that this plugin, and not hwb's own ``venv``, made the environment and removed it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hwb import (
    BuildError,
    Capabilities,
    CliOption,
    CommandLine,
    ConfigKey,
    EnvRequest,
    IsolationInfo,
    PythonInfo,
    Reporter,
    hookimpl,
    process,
)
from hwb.hostenv import HostBuildEnv

NAME = "demo"
MARKER_KEY = "isolation.demo.marker"


@hookimpl
def register_isolation() -> IsolationInfo:
    return IsolationInfo(
        NAME,
        "a stdlib venv filled by uv (third-party demo plugin)",
        capabilities=Capabilities(native=True, rank=70),
    )


@hookimpl
def add_commands(cli: CommandLine) -> None:
    """``hwb demo-info``: this plugin's settings for a project, as JSON. With
    ``HWB_DEMO_CLASH=1`` it also tries to take ``hwb pythons`` (a test of name clashes)."""
    click = cli.click

    @cli.group.command("demo-info")
    @click.argument("src", default=".")
    @click.pass_context
    def demo_info(ctx: Any, src: str) -> int:
        """Print the demo plugin's settings for the project in SRC."""
        from hwb import Project

        cli.set_output(verbosity=0)
        session = cli.session(ctx)
        config = session.config_for(Project.load(Path(src)))
        print(json.dumps({"marker": config.get(MARKER_KEY), "source": config.source(MARKER_KEY)}))
        return 0

    if os.environ.get("HWB_DEMO_CLASH") == "1":

        @cli.group.command("pythons")
        def clash() -> None:
            """Never reachable: the core's pythons keeps its name."""


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {MARKER_KEY: ConfigKey("path", None, "File that receives one JSON line per step.")}


@hookimpl
def cli_options(command: str) -> list[CliOption] | None:
    if command != "build":
        return None
    return [
        CliOption(
            ("--demo-marker",), key=MARKER_KEY, metavar="FILE", help="Record demo steps in FILE."
        )
    ]


class DemoEnv(HostBuildEnv):
    isolation = NAME

    def __init__(
        self,
        *,
        python: PythonInfo,
        source_dir: Path,
        reporter: Reporter,
        env_dir: Path,
        marker: str | None,
    ) -> None:
        super().__init__(python=python, source_dir=source_dir, reporter=reporter)
        self.env_dir = env_dir
        self.marker = marker
        self.path_prefix = [str(env_dir / "bin")]
        self.extra_environ = {"VIRTUAL_ENV": str(env_dir)}

    @property
    def python_executable(self) -> str:
        return str(self.env_dir / "bin" / "python")

    def record(self, event: str, **data: Any) -> None:
        if self.marker:
            with open(self.marker, "a", encoding="utf-8") as stream:
                stream.write(
                    json.dumps({"event": event, "env_dir": str(self.env_dir), **data}) + "\n"
                )

    def create(self) -> None:
        process.run(
            [self.python.path, "-m", "venv", "--without-pip", str(self.env_dir)],
            reporter=self.reporter,
            env=self.environ(),
            what="python -m venv",
        )
        self.record("created", base=self.python.path, python=self.python_executable)

    def install(self, requirements: Sequence[str]) -> None:
        from uv import find_uv_bin

        cmd = [
            str(find_uv_bin()),
            "pip",
            "install",
            "--python",
            self.python_executable,
            *requirements,
        ]
        try:
            process.run(cmd, reporter=self.reporter, env=self.environ(), what="uv pip install")
        except BuildError as exc:
            raise BuildError(
                "demo could not install " + ", ".join(requirements), details=exc.details
            ) from None
        self.record("installed", requirements=list(requirements))


@hookimpl
def create_env(isolation: str, request: EnvRequest) -> object | None:
    if isolation != NAME:
        return None
    return _demo_env(request)


@contextmanager
def _demo_env(request: EnvRequest) -> Iterator[DemoEnv]:
    env = DemoEnv(
        python=request.python,
        source_dir=request.project.root,
        reporter=request.reporter,
        env_dir=request.work_dir / "demo-env",
        marker=request.config.get(MARKER_KEY),
    )
    request.reporter.step("demo: creating a stdlib venv")
    try:
        env.create()
        yield env
    finally:
        shutil.rmtree(env.env_dir, ignore_errors=True)
        env.record("removed", exists=os.path.exists(env.env_dir))
