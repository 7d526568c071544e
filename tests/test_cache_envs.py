"""``cache-envs``: build environments kept in hwb's cache and reused, and ``hwb cache``.

Real builds: hatchling and six come from the package index through uv, the interpreter is the
one running the tests. The venv plugin's ``create_env`` makes (or finds) the environment, its
``config_schema`` declares ``isolation.venv.cache-envs``, ``cache-max-age`` and ``refresh-envs``,
its ``cli_options`` adds ``--cache-envs``, ``--no-cache-envs`` and ``--refresh-envs``, and the
core's ``run_backend`` moves to another cached environment when ``get_requires_for_build_wheel``
asks for more. Every test has a cache directory of its own (``HWB_CACHE_DIR``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import assert_clean_error, json_out, write_project
from tests.test_interrupt import EXIT_INTERRUPTED, slow_requirement, wait_for

Run = Callable[..., subprocess.CompletedProcess[str]]

pytestmark = pytest.mark.real

REUSED = "reusing cached build environment"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def hwb(run_hwb: Run, cache: Path) -> Run:
    """``run_hwb`` with this test's own cache directory."""

    def run(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return run_hwb(*args, env={"HWB_CACHE_DIR": str(cache), **(env or {})}, **kwargs)

    return run


def hatch_project(root: Path, requires: str = '"hatchling"', extra_toml: str = "") -> Path:
    return write_project(root, {
        "pyproject.toml": f"""
        [build-system]
        requires = [{requires}]
        build-backend = "hatchling.build"

        [project]
        name = "cachedemo"
        version = "1.0"
        {extra_toml}
        """,
        "src/cachedemo/__init__.py": "VALUE = 1\n",
    })


def extras_project(root: Path) -> Path:
    """An in-tree backend over hatchling whose ``get_requires_for_build_wheel`` asks for six when
    the config setting ``want-six`` is given, and whose ``build_wheel`` then needs six."""
    return write_project(root, {
        "pyproject.toml": """
        [build-system]
        requires = ["hatchling"]
        build-backend = "six_backend"
        backend-path = ["_backend"]

        [project]
        name = "cachedemo"
        version = "1.0"

        [tool.hatch.build.targets.wheel]
        packages = ["src/cachedemo"]
        """,
        "_backend/six_backend.py": """
        from hatchling.build import *  # noqa: F401,F403
        from hatchling.build import build_wheel as _build_wheel


        def get_requires_for_build_wheel(config_settings=None):
            return ["six"] if (config_settings or {}).get("want-six") else []


        def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
            if (config_settings or {}).get("want-six"):
                import six  # noqa: F401  (installed because get_requires asked for it)
            else:
                try:
                    import six  # noqa: F401
                except ImportError:
                    pass
                else:
                    raise RuntimeError("six is installed in an environment that did not ask for it")
            return _build_wheel(wheel_directory, config_settings, metadata_directory)
        """,
        "src/cachedemo/__init__.py": "VALUE = 1\n",
    })


def build(hwb: Run, project: Path, *options: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = hwb("build", str(project), "--isolation", "venv", *options, env=env)
    assert result.returncode == 0, result.stderr
    assert list((project / "dist").glob("cachedemo-1.0-*.whl")), result.stderr
    return result


def cached(hwb: Run) -> list[dict[str, Any]]:
    envs: list[dict[str, Any]] = json_out(hwb("cache", "list", "--json"))["envs"]
    return envs


def env_dirs(cache: Path) -> list[Path]:
    root = cache / "envs"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


# --------------------------------------------------------------------------- reuse


def test_the_second_build_reuses_the_environment_and_installs_nothing(hwb: Run, tmp_path: Path, cache: Path) -> None:
    project = hatch_project(tmp_path / "proj")
    first = build(hwb, project, "--cache-envs", "-vv")
    assert REUSED not in first.stderr
    assert "not built yet" in first.stderr
    (env,) = cached(hwb)
    assert env["requirements"] == ["hatchling"]
    assert env["state"] == "ok" and env["size"] > 0
    assert env["python"].startswith(".".join(map(str, sys.version_info[:3])))
    # The modules were compiled, for the paths they have in the cache.
    assert list(Path(env["path"]).rglob("hatchling/__pycache__/*.pyc"))

    second = build(hwb, project, "--cache-envs", "-vv")
    assert f"{REUSED} {env['key']}" in second.stderr
    assert "uv venv" not in second.stderr and "pip install" not in second.stderr, second.stderr
    assert [e["key"] for e in cached(hwb)] == [env["key"]]
    # Leaves nothing half-made and no temporary directory.
    assert [p.name for p in env_dirs(cache)] == [env["key"]]


def test_the_setting_in_pyproject_and_the_environment_variable_turn_it_on(hwb: Run, tmp_path: Path) -> None:
    project = hatch_project(tmp_path / "proj", extra_toml="[tool.hwb.isolation.venv]\ncache-envs = true\n")
    build(hwb, project)
    assert len(cached(hwb)) == 1
    assert REUSED in build(hwb, project).stderr
    # --no-cache-envs wins over the file: a throwaway environment, the cache untouched.
    third = build(hwb, project, "--no-cache-envs")
    assert REUSED not in third.stderr and "cached build environment" not in third.stderr
    other = hatch_project(tmp_path / "other")
    assert REUSED in build(hwb, other, env={"HWB_ISOLATION_VENV_CACHE_ENVS": "1"}).stderr


def test_without_cache_envs_nothing_is_kept(hwb: Run, tmp_path: Path, cache: Path) -> None:
    project = hatch_project(tmp_path / "proj")
    build(hwb, project)
    assert env_dirs(cache) == []
    assert cached(hwb) == []


def test_a_different_requirement_set_gets_a_different_environment(hwb: Run, tmp_path: Path) -> None:
    build(hwb, hatch_project(tmp_path / "a"), "--cache-envs")
    build(hwb, hatch_project(tmp_path / "b", requires='"hatchling", "six"'), "--cache-envs")
    envs = cached(hwb)
    assert sorted(tuple(e["requirements"]) for e in envs) == [("hatchling",), ("hatchling", "six")]
    assert len({e["key"] for e in envs}) == 2
    # The same set spelt differently is the same environment.
    again = build(hwb, hatch_project(tmp_path / "c", requires='"six", "Hatchling"'), "--cache-envs")
    assert REUSED in again.stderr
    assert len(cached(hwb)) == 2


def test_what_the_backend_asks_for_selects_another_environment_never_a_wrong_one(
    hwb: Run, tmp_path: Path
) -> None:
    """get_requires_for_build_wheel asking for six moves the build to an environment holding
    hatchling and six; one that did not ask never runs where six is installed."""
    project = extras_project(tmp_path / "proj")
    build(hwb, project, "--cache-envs")
    (plain,) = cached(hwb)
    assert plain["requirements"] == ["hatchling"]

    with_six = build(hwb, project, "--cache-envs", "-C", "want-six=1")
    assert "installing what the backend asked for: six" in with_six.stderr
    envs = {tuple(e["requirements"]): e["key"] for e in cached(hwb)}
    assert set(envs) == {("hatchling",), ("hatchling", "six")}

    # Both kinds of build again: each reuses its own, none is changed, no new one appears.
    again_plain = build(hwb, project, "--cache-envs")
    assert f"{REUSED} {envs[('hatchling',)]}" in again_plain.stderr
    again_six = build(hwb, project, "--cache-envs", "-C", "want-six=1")
    assert f"{REUSED} {envs[('hatchling', 'six')]}" in again_six.stderr
    assert {tuple(e["requirements"]): e["key"] for e in cached(hwb)} == envs


# --------------------------------------------------------------------------- broken, stale, refresh


@pytest.mark.parametrize("damage", ["marker", "python"])
def test_a_damaged_environment_is_made_again(hwb: Run, tmp_path: Path, damage: str) -> None:
    project = hatch_project(tmp_path / "proj")
    build(hwb, project, "--cache-envs")
    (env,) = cached(hwb)
    path = Path(env["path"])
    if damage == "marker":
        (path / "hwb-env.json").unlink()
        assert cached(hwb)[0]["state"] == "incomplete"
    else:
        (path / "bin" / "python").unlink()
    again = build(hwb, project, "--cache-envs")
    assert REUSED not in again.stderr
    assert ("incomplete" if damage == "marker" else "is missing") in again.stderr
    (fresh,) = cached(hwb)
    assert fresh["key"] == env["key"] and fresh["state"] == "ok"
    assert (path / "bin" / "python").exists()
    assert REUSED in build(hwb, project, "--cache-envs").stderr


def test_refresh_envs_makes_the_environment_again(hwb: Run, tmp_path: Path) -> None:
    project = hatch_project(tmp_path / "proj")
    build(hwb, project, "--cache-envs")
    (before,) = cached(hwb)
    refreshed = build(hwb, project, "--cache-envs", "--refresh-envs")
    assert "refresh asked for" in refreshed.stderr and REUSED not in refreshed.stderr
    (after,) = cached(hwb)
    assert after["key"] == before["key"] and after["created"] > before["created"]


def test_an_environment_older_than_the_age_limit_is_made_again(hwb: Run, tmp_path: Path) -> None:
    project = hatch_project(tmp_path / "proj")
    build(hwb, project, "--cache-envs")
    (env,) = cached(hwb)
    marker = Path(env["path"]) / "hwb-env.json"
    record = json.loads(marker.read_text())
    record["created"] = time.time() - 10 * 86400
    marker.write_text(json.dumps(record))
    # No limit: still reused.
    assert REUSED in build(hwb, project, "--cache-envs", env={"HWB_ISOLATION_VENV_CACHE_MAX_AGE": "0"}).stderr
    stale = build(hwb, project, "--cache-envs")  # the default limit is 7 days
    assert "older than the age limit (7 days)" in stale.stderr
    assert cached(hwb)[0]["age_days"] < 1


# --------------------------------------------------------------------------- concurrency, failures


def test_two_builds_at_once_with_the_same_key_both_succeed_and_leave_one_environment(
    hwb_env: dict[str, str], tmp_path: Path, cache: Path, hwb: Run
) -> None:
    projects = [hatch_project(tmp_path / f"p{i}") for i in range(2)]
    env = {**hwb_env, "HWB_CACHE_DIR": str(cache)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "hwb_core", "build", str(p), "--isolation", "venv", "--cache-envs"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for p in projects
    ]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    # One made it, the other waited for it and used it.
    assert sum(REUSED in err for _out, err in outputs) == 1, outputs
    for p in projects:
        assert list((p / "dist").glob("*.whl"))
    (only,) = env_dirs(cache)
    assert [e["key"] for e in cached(hwb)] == [only.name]


def test_a_failed_install_leaves_no_environment(hwb: Run, tmp_path: Path, cache: Path) -> None:
    project = hatch_project(tmp_path / "proj", requires='"hatchling", "hwb-no-such-distribution-xyz"')
    result = hwb("build", str(project), "--isolation", "venv", "--cache-envs")
    error = assert_clean_error(result, 1)
    assert "could not install build requirements" in error
    assert env_dirs(cache) == []


def test_an_interrupt_while_the_environment_is_made_leaves_no_environment(
    hwb_env: dict[str, str], tmp_path: Path, cache: Path, hwb: Run
) -> None:
    started = tmp_path / "slowdep-started"
    slowdep = slow_requirement(tmp_path / "slowdep", started)
    project = hatch_project(tmp_path / "proj", requires=f'"hatchling", "slowdep @ {slowdep.as_uri()}"')
    stderr = tmp_path / "stderr.txt"
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hwb_core", "build", str(project), "--isolation", "venv", "--cache-envs"],
            env={**hwb_env, "HWB_CACHE_DIR": str(cache)}, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
        )
    try:
        wait_for(lambda: started.exists() and started.read_text().isdigit(), proc, stderr)
        assert [p.name.startswith(".tmp-") for p in env_dirs(cache)] == [True]
        os.killpg(proc.pid, signal.SIGINT)
        returncode = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert returncode == EXIT_INTERRUPTED, stderr.read_text()
    assert env_dirs(cache) == []
    assert cached(hwb) == []


# --------------------------------------------------------------------------- hwb cache


def test_cache_clear_removes_environments_and_says_how_much_it_freed(hwb: Run, tmp_path: Path, cache: Path) -> None:
    build(hwb, hatch_project(tmp_path / "proj"), "--cache-envs")
    (env,) = cached(hwb)
    listing = hwb("cache", "list")
    assert listing.returncode == 0 and env["key"] in listing.stdout and "hatchling" in listing.stdout

    # Made just now: not older than one day.
    kept = hwb("cache", "clear", "--older-than", "1")
    assert kept.returncode == 0, kept.stderr
    assert len(cached(hwb)) == 1

    cleared = hwb("cache", "clear", "--json")
    data = json_out(cleared)
    assert [e["key"] for e in data["removed"]] == [env["key"]]
    assert data["freed"] == env["size"] > 0
    assert cached(hwb) == [] and env_dirs(cache) == []

    text = hwb("cache", "clear")
    assert text.returncode == 0 and "freed 0 B" in text.stderr


def test_cache_commands_with_no_cache_directory(hwb: Run, cache: Path) -> None:
    assert cached(hwb) == []
    listing = hwb("cache", "list")
    assert listing.returncode == 0 and "no cached build environments" in listing.stderr
    assert hwb("cache", "clear").returncode == 0
    assert not (cache / "envs").exists() or env_dirs(cache) == []


def test_cache_bad_input_is_one_line(hwb: Run) -> None:
    assert "--older-than" in assert_clean_error(hwb("cache", "clear", "--older-than", "-3"), 2)
    assert_clean_error(hwb("cache", "clear", "--older-than", "soon"), 2)
    assert_clean_error(hwb("cache", "prune"), 2)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("cache-envs = 3", "isolation.venv.cache-envs"),
        ("cache-max-age = -1", "isolation.venv.cache-max-age"),
        ("cache-max-age = inf", "must be a finite number, not inf"),
        ("cache-max-age = nan", "must be a finite number, not nan"),
        ("index-max-age = -600", "isolation.venv.index-max-age"),
        ('cache-max-age = "week"', "isolation.venv.cache-max-age"),
        ("cache-env = true", "did you mean 'isolation.venv.cache-envs'"),
    ],
)
def test_bad_settings_are_one_line_errors(hwb: Run, tmp_path: Path, cache: Path, toml: str, expected: str) -> None:
    table = toml if toml.startswith("cache-envs ") else f"cache-envs = true\n{toml}"
    project = hatch_project(tmp_path / "proj", extra_toml=f"[tool.hwb.isolation.venv]\n{table}\n")
    error = assert_clean_error(hwb("build", str(project), "--isolation", "venv"), 2)
    assert expected in error
    assert env_dirs(cache) == []


# --------------------------------------------------------------------------- one backend process


def hook_commands(stderr: str) -> list[str]:
    """The backend processes a ``-vv`` build started (``driver``), and the installs of what the
    backend asked for between them (``install``)."""
    found = []
    for line in stderr.splitlines():
        if line.startswith("$ ") and "hook_driver.py" in line:
            found.append("driver")
        elif "installing what the backend asked for" in line:
            found.append("install")
    return found


@pytest.mark.parametrize("cache_envs", [False, True], ids=["throwaway", "cache-envs"])
def test_one_backend_process_runs_both_hooks_unless_the_backend_asks_for_more(
    hwb: Run, tmp_path: Path, cache_envs: bool
) -> None:
    """get_requires_for_build_wheel and build_wheel share one process (the core's run_backend
    starts hook_driver.py); when the backend asks for more, build_wheel runs in a process of its
    own after the install, in the environment that holds it."""
    options = ("--cache-envs",) if cache_envs else ()
    project = extras_project(tmp_path / "proj")
    plain = build(hwb, project, *options, "-vv")
    assert hook_commands(plain.stderr) == ["driver"], plain.stderr
    more = build(hwb, project, *options, "-vv", "-C", "want-six=1")
    assert hook_commands(more.stderr) == ["driver", "install", "driver"], more.stderr
