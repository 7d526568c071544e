"""Shared fixtures. Tests run real interpreters, real backends from PyPI and real tools.

A test that needs something this machine lacks (a pyenv version, a Docker engine) calls
:func:`require`: outside CI it skips, in CI (``CI`` or ``HWB_TEST_STRICT`` set) it fails, so a
missing dependency can never pass as green.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from hwb_core.report import ConsoleReporter


class NullReporter(ConsoleReporter):
    """A reporter that prints nothing: for tests that drive the kernel directly."""

    def __init__(self) -> None:
        super().__init__(verbosity=-1)

    def warn(self, message: str) -> None:
        pass


# A suite started in the background of a shell without job control inherits SIGINT ignored,
# and so would every hwb it starts (Python keeps an ignored SIGINT ignored): the interrupt
# tests would then test nothing. The default handler here makes hwb's own the default again.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
#: Sample projects hold tests of their own (run by hwb against their wheels), never collected here.
collect_ignore = ["data"]
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
STRICT = bool(os.environ.get("CI") or os.environ.get("HWB_TEST_STRICT"))


def require(condition: object, reason: str) -> None:
    """Skip (locally) or fail (in CI) when ``condition`` is false."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"required for this test in CI: {reason}")
    pytest.skip(reason)


def pyenv_python(short: str) -> Path:
    """The real executable of pyenv's newest ``short`` (``"3.12"``) release."""
    candidates = sorted(PYENV_VERSIONS.glob(f"{short}.*/bin/python{short}"))
    require(candidates, f"pyenv has no Python {short} under {PYENV_VERSIONS}")
    return candidates[-1]


@pytest.fixture(scope="session")
def hwb_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hwb-cache")


@pytest.fixture
def hwb_env(hwb_cache: Path, tmp_path: Path) -> dict[str, str]:
    """Environment for running hwb: private cache and temp directories."""
    env = dict(os.environ)
    env["HWB_CACHE_DIR"] = str(hwb_cache)
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmp)
    env.pop("HWB_DISABLE_PLUGINS", None)
    # Outside CI's own logging (the cilog plugin): expected failures are no annotations of
    # this repository's CI run, and its job summary gets no tables of test builds.
    for name in ("GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_STEP_SUMMARY", "HWB_CI_LOG"):
        env.pop(name, None)
    return env


@pytest.fixture
def run_hwb(hwb_env: dict[str, str]):
    """``run_hwb("build", str(project), ...)`` runs the real CLI in a subprocess."""

    def run(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        python: str | None = None,
        timeout: float = 600,
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(hwb_env)
        if env:
            full_env.update(env)
        return subprocess.run(
            [python or sys.executable, "-m", "hwb_core", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    return run


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text, dedented) under ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def wheel_members(path: Path) -> dict[str, bytes]:
    """File members and their bytes (directory entries, which some tools write, left out)."""
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist() if not name.endswith("/")}


def assert_clean_error(result: subprocess.CompletedProcess[str], code: int | None = None) -> str:
    """A bad-input failure: non-zero exit, no traceback, an ``error:`` line on stderr."""
    assert result.returncode != 0, result.stderr
    if code is not None:
        assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def json_out(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def have(tool: str) -> bool:
    return shutil.which(tool) is not None
