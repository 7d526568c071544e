"""Ctrl-C (and SIGTERM) while build requirements install: hwb stops, says so in one line,
exits 130 and leaves no temporary directory behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import write_project
from tests.plugins.backends import tiny_project

EXIT_INTERRUPTED = 130


def slow_requirement(root: Path, started: Path) -> Path:
    """A local distribution whose in-tree backend hangs while it builds (as a big compile would),
    after noting its pid in ``started``."""
    return write_project(
        root,
        {
            "pyproject.toml": """
            [build-system]
            requires = []
            build-backend = "slow_backend"
            backend-path = ["."]

            [project]
            name = "slowdep"
            version = "1.0"
            """,
            "slow_backend.py": f"""
            import os
            import time

            with open({str(started)!r}, "w") as stream:
                stream.write(str(os.getpid()))
            time.sleep(300)
            """,
        },
    )


def wait_for(condition, proc: subprocess.Popen[bytes], stderr: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"hwb ended before the install step was under way:\n{stderr.read_text()}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"the install step never started:\n{stderr.read_text()}")
        time.sleep(0.05)


def running(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (dead, not yet reaped by its new parent) does not."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("whole_group", [True, False], ids=["to-the-group", "to-hwb-alone"])
def test_an_interrupt_during_install_exits_130_and_removes_the_environment(
    hwb_env: dict[str, str], tmp_path: Path, signum: signal.Signals, whole_group: bool
) -> None:
    """Ctrl-C in a terminal reaches the whole foreground group; a supervisor's signal may reach
    hwb alone, which must then stop what it started (the installer and the backend under it)."""
    started = tmp_path / "slowdep-started"
    slowdep = slow_requirement(tmp_path / "slowdep", started)
    project = tiny_project(tmp_path / "proj")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "requires = []", f'requires = ["slowdep @ {slowdep.as_uri()}"]'
        )
    )
    stderr = tmp_path / "stderr.txt"
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hwb_core", "build", str(project), "--isolation", "venv"],
            env=hwb_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # its own process group, as a terminal's job would be
        )
    try:
        wait_for(
            lambda: (
                "installing build requirements: slowdep" in stderr.read_text()
                and started.exists()
                and started.read_text().isdigit()
            ),
            proc,
            stderr,
        )
        tmp = Path(hwb_env["TMPDIR"])
        assert list(tmp.glob("hwb-*")), "the build's work directory should exist while it runs"

        if whole_group:
            os.killpg(proc.pid, signum)
        else:
            os.kill(proc.pid, signum)
        returncode = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    text = stderr.read_text()
    assert returncode == EXIT_INTERRUPTED, text
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: interrupted"), text
    assert "Traceback" not in text
    assert list(tmp.glob("hwb-*")) == []
    backend_pid = int(started.read_text())
    deadline = time.monotonic() + 10
    while running(backend_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(backend_pid), "the hanging backend outlived hwb"
    assert not (project / "dist").exists() or not list((project / "dist").iterdir())
