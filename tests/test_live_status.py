"""The live status line of ``hwb build`` on a terminal (issue 11): the step, its elapsed time and
the latest output line, redrawn while the backend works and taken away at the end; never
without a terminal, with ``--json`` on stdout intact, and not at all under ``NO_COLOR``."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_project

pytestmark = pytest.mark.real

SLOW_BACKEND = """
import os, sys, time, zipfile

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    for part in range(int(os.environ.get("SLOW_PARTS", "6"))):
        print(f"compiling part {part}", flush=True)
        time.sleep(0.5)
    if os.environ.get("SLOW_FAIL"):
        raise SystemExit("the compiler gave up")
    name = "slow-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        zf.writestr("slow/__init__.py", "")
        zf.writestr("slow-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nTag: py3-none-any\\n")
        zf.writestr("slow-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: slow\\nVersion: 1.0\\n")
        zf.writestr("slow-1.0.dist-info/RECORD", "")
    return name
"""


def slow_project(root: Path) -> Path:
    return write_project(
        root,
        {
            "pyproject.toml": """
            [build-system]
            requires = []
            build-backend = "slow_backend"
            backend-path = ["."]

            [project]
            name = "slow"
            version = "1.0"
            """,
            "slow_backend.py": SLOW_BACKEND,
        },
    )


def on_terminal(
    hwb_env: dict[str, str], *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run ``hwb ARGS`` with stderr on a pseudo-terminal (stdout a pipe, as under ``--json``):
    exit code, what the terminal received, stdout."""
    master, slave = pty.openpty()
    full_env = {**hwb_env, "TERM": "xterm", "COLUMNS": "120", **(env or {})}
    for name in ("NO_COLOR", "FORCE_COLOR"):
        if name not in (env or {}):
            full_env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hwb_core", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=full_env,
    )
    os.close(slave)
    received = bytearray()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    stdout = proc.stdout.read().decode() if proc.stdout else ""
    return proc.wait(timeout=60), received.decode(errors="replace"), stdout


def frames(terminal: str) -> list[str]:
    """The status line's redraws: the texts between carriage returns, escapes removed."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal)
    return [part for part in plain.split("\r") if "building wheel with slow_backend (" in part]


def test_the_status_line_follows_a_slow_backend(hwb_env: dict[str, str], tmp_path: Path) -> None:
    project = slow_project(tmp_path / "p")
    code, terminal, stdout = on_terminal(
        hwb_env, "build", str(project), "--isolation", "venv", "-o", str(tmp_path / "out")
    )
    assert code == 0, terminal
    seen = frames(terminal)
    # Redrawn while the backend worked: the elapsed time moved on, the latest output showed.
    assert any("(2s)" in frame for frame in seen), seen
    assert any("compiling part 3" in frame for frame in seen), seen
    assert "\x1b[?25h" in terminal  # the cursor given back
    assert "built " in terminal.split("\x1b[?25h")[-1]  # the last words come after the line went
    assert stdout == ""


def test_a_failure_takes_the_status_line_away_first(
    hwb_env: dict[str, str], tmp_path: Path
) -> None:
    project = slow_project(tmp_path / "p")
    code, terminal, _ = on_terminal(
        hwb_env, "build", str(project), "--isolation", "venv", env={"SLOW_FAIL": "1"}
    )
    assert code == 1, terminal
    assert frames(terminal)
    after = terminal.split("\x1b[?25h")[-1]
    assert "error: the build backend 'slow_backend' failed in build_wheel" in after
    assert "  | the compiler gave up" in after


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--json",), {}), ((), {"NO_COLOR": "1"}), ((), {"TERM": "dumb"})],
    ids=["json", "no-color", "dumb-terminal"],
)
def test_no_status_line(
    hwb_env: dict[str, str], tmp_path: Path, args: Any, env: dict[str, str]
) -> None:
    project = slow_project(tmp_path / "p")
    code, terminal, stdout = on_terminal(
        hwb_env,
        "build",
        str(project),
        "--isolation",
        "venv",
        "-o",
        str(tmp_path / "out"),
        *args,
        env=env,
    )
    assert code == 0, terminal
    assert not frames(terminal), terminal
    if "--json" in args:
        assert json.loads(stdout)["wheels"][0]["filename"] == "slow-1.0-py3-none-any.whl"
    if env.get("NO_COLOR"):
        assert "\x1b" not in terminal, terminal


def test_no_status_line_without_a_terminal(run_hwb: Any, tmp_path: Path) -> None:
    project = slow_project(tmp_path / "p")
    result = run_hwb("build", str(project), "--isolation", "venv", env={"FORCE_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "\x1b[?25l" not in result.stderr


def all_on_terminal(hwb_env: dict[str, str], *args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run ``hwb ARGS`` with stdout and stderr on one pseudo-terminal: exit code, what it got."""
    master, slave = pty.openpty()
    full_env = {**hwb_env, "TERM": "xterm", "COLUMNS": "100", **env}
    for name in ("NO_COLOR", "FORCE_COLOR"):
        if name not in env:
            full_env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hwb_core", *args],
        stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=full_env,
    )
    os.close(slave)
    received = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    return proc.wait(timeout=60), received.decode(errors="replace")


@pytest.mark.parametrize(
    "env", [{"NO_COLOR": "1"}, {"NO_COLOR": "yes"}, {"TERM": "dumb"}],
    ids=["no-color", "no-color-yes", "dumb-terminal"],
)
def test_no_escapes_at_all_when_asked_for_plain_text(
    hwb_env: dict[str, str], tmp_path: Path, env: dict[str, str]
) -> None:
    """Help pages were bold and dim under NO_COLOR, steps bold under TERM=dumb, and the live
    hwb matrix table (cursor hidden, lines redrawn) was drawn under NO_COLOR."""
    project = slow_project(tmp_path / "p")
    # A second of backend output is eight redraws of a live line, were one drawn.
    env = {**env, "SLOW_PARTS": "2"}
    runs = {
        "help": ("--help",),
        "build help": ("build", "--help"),
        "matrix help": ("matrix", "--help"),
        "build": ("build", str(project), "--isolation", "venv", "-o", str(tmp_path / "a")),
        "matrix": ("matrix", str(project), "--isolation", "venv", "-o", str(tmp_path / "b")),
        "failure": ("build", str(tmp_path / "missing")),
    }
    for name, args in runs.items():
        code, terminal = all_on_terminal(hwb_env, *args, env=env)
        assert code == (2 if name == "failure" else 0), (name, terminal)
        assert terminal.strip(), name
        assert "\x1b" not in terminal, (name, terminal)
