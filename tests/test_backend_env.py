"""What the build backend sees of hwb's environment: credentials withheld by default on the
host, ``[tool.hwb.env]`` pass, block and set (issue 11)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hwb_core.backend_env import BackendEnvironment
from tests.conftest import json_out, write_project

ENV_BACKEND = '''
import json, os, zipfile

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "envdump-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        zf.writestr("envdump/environ.json", json.dumps(dict(os.environ)))
        zf.writestr("envdump-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nTag: py3-none-any\\n")
        zf.writestr("envdump-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: envdump\\nVersion: 1.0\\n")
        zf.writestr("envdump-1.0.dist-info/RECORD", "")
    return name
'''

SECRETS = {
    "GITHUB_TOKEN": "ghp_not_a_real_token",
    "AWS_SECRET_ACCESS_KEY": "not-a-real-key",
    "AWS_ACCESS_KEY_ID": "AKIANOTREAL",
    "PIP_INDEX_URL": "https://builder:hunter2@pypi.example.com/simple",
    "MY_SERVICE_PASSWORD": "hunter2",
}


def env_project(root: Path, table: str = "") -> Path:
    return write_project(root, {
        "pyproject.toml": f'''
            [build-system]
            requires = []
            build-backend = "env_backend"
            backend-path = ["_backend"]

            [project]
            name = "envdump"
            version = "1.0"

            {table}
            ''',
        "_backend/env_backend.py": ENV_BACKEND,
    })


def backend_environ(run_hwb: Any, project: Path, *args: str, env: dict[str, str]) -> tuple[dict[str, str], str]:
    result = run_hwb("build", str(project), "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    wheel = json_out(result)["wheels"][0]["path"]
    with zipfile.ZipFile(wheel) as zf:
        return json.loads(zf.read("envdump/environ.json")), result.stderr


@pytest.mark.parametrize("isolation", ["venv", "none"])
def test_credentials_are_withheld_from_the_backend_by_default(
    run_hwb: Any, tmp_path: Path, isolation: str
) -> None:
    project = env_project(tmp_path / "p")
    seen, stderr = backend_environ(
        run_hwb, project, "--isolation", isolation, "-v", env={**SECRETS, "HWB_PLAIN": "kept"}
    )
    assert not set(SECRETS) & set(seen), sorted(set(SECRETS) & set(seen))
    assert seen["HWB_PLAIN"] == "kept"
    assert "PATH" in seen and "HOME" in seen
    assert f"withholding {len(SECRETS)} variables that look like credentials" in stderr
    assert "hunter2" not in stderr and "ghp_not_a_real_token" not in stderr


def test_pass_block_and_set_change_what_the_backend_gets(run_hwb: Any, tmp_path: Path) -> None:
    project = env_project(tmp_path / "p", '''
            [tool.hwb.env]
            pass = ["GITHUB_TOKEN"]
            block = ["HWB_PLAIN", "HWB_INTERNAL_*"]
            set = { BUILD_FLAVOUR = "release" }
    ''')
    seen, _ = backend_environ(
        run_hwb, project, "--isolation", "venv",
        env={**SECRETS, "HWB_PLAIN": "x", "HWB_INTERNAL_URL": "y", "HWB_OTHER": "z"},
    )
    assert seen["GITHUB_TOKEN"] == SECRETS["GITHUB_TOKEN"]
    assert "AWS_SECRET_ACCESS_KEY" not in seen
    assert "HWB_PLAIN" not in seen and "HWB_INTERNAL_URL" not in seen
    assert seen["HWB_OTHER"] == "z"
    assert seen["BUILD_FLAVOUR"] == "release"


def test_a_table_per_system_sets_variables_for_that_systems_wheels_only(
    run_hwb: Any, tmp_path: Path
) -> None:
    """``[tool.hwb.env.linux]`` applies to a Linux build, over ``env.set``; the macOS and
    Windows tables do not; the old Windows-only table warns that it is deprecated."""
    project = env_project(tmp_path / "p", '''
            [tool.hwb.env]
            set = { FLAVOUR = "general", ONLY_GENERAL = "1" }
            [tool.hwb.env.linux]
            set = { FLAVOUR = "linux" }
            [tool.hwb.env.macos]
            set = { ON_MACOS = "1" }
            [tool.hwb.env.windows]
            set = { ON_WINDOWS = "1" }
            [tool.hwb.isolation.venv.windows]
            env = { OLD_WINDOWS = "1" }
    ''')
    seen, stderr = backend_environ(run_hwb, project, "--isolation", "venv", env={})
    assert seen["FLAVOUR"] == "linux" and seen["ONLY_GENERAL"] == "1"
    assert "ON_MACOS" not in seen and "ON_WINDOWS" not in seen and "OLD_WINDOWS" not in seen
    assert "isolation.venv.windows.env is deprecated: move its variables to [tool.hwb.env.windows]" in stderr


def test_the_rule_reads_the_table_of_the_targets_system() -> None:
    from hwb_core.backend_env import KEYS
    from hwb_core.config import load_config

    config = load_config(KEYS, tool_hwb={"env": {
        "set": {"A": "1", "B": "1"}, "windows": {"set": {"B": "2"}}, "macos": {"set": {"C": "3"}},
    }})
    assert BackendEnvironment.from_config(config, "windows").set == {"A": "1", "B": "2"}
    assert BackendEnvironment.from_config(config, "macos").set == {"A": "1", "B": "1", "C": "3"}
    assert BackendEnvironment.from_config(config).set == {"A": "1", "B": "1"}


def test_a_set_value_that_is_not_a_string_is_a_one_line_error(run_hwb: Any, tmp_path: Path) -> None:
    project = env_project(tmp_path / "p", "[tool.hwb.env]\nset = { JOBS = [\"4\"] }\n")
    result = run_hwb("build", str(project), "--isolation", "venv")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: env.set (")
    assert "quote every value" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "withheld"),
    [
        ("GITHUB_TOKEN", "x", True),
        ("GH_TOKEN", "x", True),
        ("NPM_TOKEN", "x", True),
        ("TWINE_PASSWORD", "x", True),
        ("AZURE_CLIENT_SECRET", "x", True),
        ("GOOGLE_APPLICATION_CREDENTIALS", "/k.json", True),
        ("SSH_AUTH_SOCK", "/tmp/agent", True),
        ("UV_INDEX_URL", "https://user:pw@example.com/simple", True),
        ("UV_INDEX_URL", "https://example.com/simple", False),
        ("GIT_AUTHOR_NAME", "me", False),
        ("PATH", "/usr/bin", False),
        ("MAX_JOBS", "4", False),
        ("CFLAGS", "-O2", False),
    ],
)
def test_the_default_rule(name: str, value: str, withheld: bool) -> None:
    assert BackendEnvironment().withholds(name, value) is withheld


@pytest.mark.parametrize(
    ("env", "colored"),
    [({"FORCE_COLOR": "1"}, True), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False), ({}, False)],
)
def test_no_color_and_force_color_are_honoured(
    run_hwb: Any, tmp_path: Path, env: dict[str, str], colored: bool
) -> None:
    project = env_project(tmp_path / "p")
    result = run_hwb("build", str(project), "--isolation", "venv", env={"NO_COLOR": "", **env})
    assert result.returncode == 0, result.stderr
    assert ("\033[" in result.stderr) is colored


# --------------------------------------------------------------------------- bounded output

LOUD_BACKEND = '''
import sys

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    sys.stdout.write("x" * 5_000_000 + "END-OF-THE-LONG-LINE\\n")
    sys.stdout.flush()
    raise RuntimeError("failed after a long line")
'''


def test_a_huge_line_of_output_stays_out_of_stderr_and_in_the_log(run_hwb: Any, tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {
        "pyproject.toml": """
            [build-system]
            requires = []
            build-backend = "loud_backend"
            backend-path = ["."]

            [project]
            name = "loud"
            version = "1.0"
            """,
        "loud_backend.py": LOUD_BACKEND,
    })
    result = run_hwb("build", str(project), "--isolation", "venv")
    assert result.returncode == 1
    assert len(result.stderr.encode()) < 64 * 1024, len(result.stderr.encode())
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the build backend 'loud_backend' failed in build_wheel")
    log = Path(last.split("(whole log: ", 1)[1].rstrip(")"))
    assert log.parent.name == "logs" and log.name.startswith("build-loud-")
    text = log.read_text()
    assert text.count("x") >= 5_000_000 and "END-OF-THE-LONG-LINE" in text
    assert "RuntimeError: failed after a long line" in text
    assert "more characters]" in result.stderr  # the tail says what it left out
    assert not list((project / "dist").glob("*.whl"))


def test_a_successful_build_reports_its_log_in_json(run_hwb: Any, tmp_path: Path) -> None:
    project = env_project(tmp_path / "p")
    result = run_hwb("build", str(project), "--isolation", "venv", "--json")
    assert result.returncode == 0, result.stderr
    log = Path(json_out(result)["wheels"][0]["log"])
    assert log.is_file() and "building wheel with env_backend" in log.read_text()


def test_build_logs_are_readable_by_their_owner_alone(run_hwb: Any, tmp_path: Path) -> None:
    """Logs hold what the backend printed, its environment's secrets perhaps: they were made
    with the umask's mode (0644 in a 0755 logs/), for every user of the machine to read."""
    import os
    import stat

    cache = tmp_path / "cache"
    (cache / "logs").mkdir(parents=True)
    (cache / "logs").chmod(0o755)  # as an earlier hwb made it
    previous = os.umask(0o022)
    try:
        result = run_hwb(
            "build", str(env_project(tmp_path / "p")), "--isolation", "venv", "--json",
            env={"HWB_CACHE_DIR": str(cache)},
        )
    finally:
        os.umask(previous)
    log = Path(json_out(result)["wheels"][0]["log"])
    assert log.parent == cache / "logs"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_a_long_command_says_it_is_still_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """The heartbeat: a line every HEARTBEAT_SECONDS while a command runs (so that a CI log
    shows a long compile is alive), and none once it ended."""
    import sys

    from hwb import process

    class Collect:
        verbosity = 0

        def __init__(self) -> None:
            self.lines: list[str] = []

        def info(self, message: str) -> None:
            self.lines.append(message)

        def debug(self, message: str) -> None: ...
        def step(self, message: str) -> None: ...
        def warn(self, message: str) -> None: ...
        def output(self, line: str) -> None: ...

    monkeypatch.setattr(process, "HEARTBEAT_SECONDS", 0.3)
    reporter: Any = Collect()
    process.run([sys.executable, "-c", "import time; time.sleep(1.2)"], reporter=reporter,
                what="the slow compile")
    beats = list(reporter.lines)
    assert 2 <= len(beats) <= 5, beats
    assert all(line.startswith("still running: the slow compile (") for line in beats)
    import time

    time.sleep(0.7)
    assert reporter.lines == beats  # stopped with the command
