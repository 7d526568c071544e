"""The backend process started ahead (the plugin ``prestart``, ``hwb_plugins.prestart``): a repeated ``hwb build`` on the host
starts its backend's interpreter while hwb is still starting, and uses it only when it is exactly
the process it would have started.

Real builds through hatchling in cached environments (``--cache-envs``), by the real command in a
subprocess; each test has its own cache directory, so its own plans.
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

from tests.conftest import assert_clean_error, require, wheel_members, write_project

Run = Callable[..., subprocess.CompletedProcess[str]]

pytestmark = pytest.mark.real

AHEAD = "(started ahead)"
AFRESH = "the process started ahead started afresh"


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def hwb(run_hwb: Run, cache: Path) -> Run:
    def run(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return run_hwb(*args, env={"HWB_CACHE_DIR": str(cache), **(env or {})}, **kwargs)

    return run


def project(root: Path, extra_toml: str = "") -> Path:
    return write_project(root, {
        "pyproject.toml": f"""
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "aheaddemo"
        version = "1.0"
        {extra_toml}
        """,
        "src/aheaddemo/__init__.py": "VALUE = 1\n",
    })


def plans(cache: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((cache / "prestart").glob("*.json"))]


def waiting_drivers(cache: Path) -> list[int]:
    """Pids of driver processes started ahead from a plan in ``cache`` that still run."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"--wait" in cmdline and any(str(cache).encode() in part for part in cmdline):
            if state != "Z":
                found.append(int(entry.name))
    return found


def build(hwb: Run, root: Path, keep: Path, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Build into ``root/dist`` (the same command line every time: plans are per command line)
    and move the wheel to ``keep``."""
    result = hwb("build", str(root), "--isolation", "venv", "--cache-envs", "-vv", *args, **kwargs)
    assert result.returncode == 0, result.stderr
    keep.mkdir()
    for wheel in (root / "dist").glob("*.whl"):
        wheel.rename(keep / wheel.name)
    return result


def driver_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("$ ") and "hook_driver.py" in line]


def test_a_repeated_build_runs_its_backend_in_the_process_started_ahead(hwb: Run, tmp_path: Path, cache: Path) -> None:
    root = project(tmp_path / "proj")
    first = build(hwb, root, tmp_path / "out1")
    assert [AHEAD in line for line in driver_lines(first.stderr)] == [False]
    plan = plans(cache)[0]
    # The plan lists what the hooks imported from outside the project: hatchling's modules.
    assert "hatchling.build" in plan["modules"]
    assert plan["python"].startswith(str(cache / "envs"))

    second = build(hwb, root, tmp_path / "out2")
    assert [AHEAD in line for line in driver_lines(second.stderr)] == [True], second.stderr
    assert AFRESH not in second.stderr
    [one] = (tmp_path / "out1").glob("*.whl")
    [two] = (tmp_path / "out2").glob("*.whl")
    assert one.name == two.name == "aheaddemo-1.0-py2.py3-none-any.whl"
    assert wheel_members(one).keys() == wheel_members(two).keys()
    assert waiting_drivers(cache) == []


def test_a_changed_environment_variable_starts_the_backend_afresh(hwb: Run, tmp_path: Path, cache: Path) -> None:
    """The process started ahead gets hwb's own variables with the last run's changes (here
    ``env.set``, from ``HWB_ENV_SET``, which being an ``HWB_*`` setting also keys the plan);
    another value finds no plan, and the backend runs in a process started now. A variable hwb
    inherits reaches a process started ahead."""
    toml = """
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "aheaddemo"
        version = "1.0"

        [tool.hatch.build.hooks.custom]
        path = "hook.py"
        """
    root = write_project(tmp_path / "proj", {
        "pyproject.toml": toml,
        "ahead_helper.py": "X = 1\n",
        "hook.py": """
        import os
        import sys
        from hatchling.builders.hooks.plugin.interface import BuildHookInterface

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import ahead_helper  # in the project: imported into sys.modules by the hooks

        class Hook(BuildHookInterface):
            def initialize(self, version, build_data):
                path = os.path.join(self.root, "src", "aheaddemo", "flavour.txt")
                with open(path, "w") as f:
                    f.write(os.environ["AHEAD_FLAVOUR"] + " " + os.environ.get("AHEAD_TOPPING", "-"))
        """,
        "src/aheaddemo/__init__.py": "",
    })

    def flavour(keep: Path) -> bytes:
        [wheel] = keep.glob("*.whl")
        return wheel_members(wheel)["aheaddemo/flavour.txt"]

    build(hwb, root, tmp_path / "out1", env={"HWB_ENV_SET": "AHEAD_FLAVOUR=vanilla"})
    assert flavour(tmp_path / "out1") == b"vanilla -"
    changed = build(hwb, root, tmp_path / "out2", env={"HWB_ENV_SET": "AHEAD_FLAVOUR=chocolate"})
    assert [AHEAD in line for line in driver_lines(changed.stderr)] == [False], changed.stderr
    assert flavour(tmp_path / "out2") == b"chocolate -"
    same = build(hwb, root, tmp_path / "out3", env={"HWB_ENV_SET": "AHEAD_FLAVOUR=chocolate", "AHEAD_TOPPING": "nuts"})
    assert [AHEAD in line for line in driver_lines(same.stderr)] == [True], same.stderr
    assert flavour(tmp_path / "out3") == b"chocolate nuts"
    # The in-tree hook's import is the project's: never imported ahead of the request.
    [plan] = [p for p in plans(cache) if p["env_set"]["AHEAD_FLAVOUR"] == "chocolate"]
    assert "hatchling.build" in plan["modules"]
    assert "ahead_helper" not in plan["modules"]
    # What hwb inherited is not written down; what the build set is.
    assert plan["env_set"]["AHEAD_FLAVOUR"] == "chocolate"
    assert "AHEAD_TOPPING" not in json.dumps(plan)
    assert all(p.stat().st_mode & 0o077 == 0 for p in [cache / "prestart", *(cache / "prestart").glob("*")])
    assert waiting_drivers(cache) == []


def test_a_fresh_copy_elsewhere_finds_the_last_plan(hwb: Run, tmp_path: Path, cache: Path) -> None:
    """A benchmark or a CI job builds a fresh copy of the project each time, at another path."""
    build(hwb, project(tmp_path / "copy1"), tmp_path / "out1")
    again = build(hwb, project(tmp_path / "copy2"), tmp_path / "out2")
    assert [AHEAD in line for line in driver_lines(again.stderr)] == [True], again.stderr
    assert [p.name for p in (tmp_path / "out2").glob("*.whl")] == ["aheaddemo-1.0-py2.py3-none-any.whl"]
    # An output directory of its own each time (as bench/run.py gives) does not change the plan.
    for n, outdir in enumerate(["-o", "--outdir=", "-o", "--outdir"]):
        where = tmp_path / f"wheels{n}"
        args = [outdir + str(where)] if outdir.endswith("=") else [outdir, str(where)]
        result = hwb("build", str(project(tmp_path / f"copy-o{n}")), "--isolation", "venv", "--cache-envs", "-vv", *args)
        assert result.returncode == 0, result.stderr
        assert [AHEAD in line for line in driver_lines(result.stderr)] == [n > 0], result.stderr
        assert list(where.glob("*.whl"))


def test_two_projects_built_in_turn_keep_a_plan_each(hwb: Run, tmp_path: Path, cache: Path) -> None:
    one = project(tmp_path / "one")
    two = project(tmp_path / "two", extra_toml='dependencies = ["six"]')
    for keep in ("a", "b"):
        first = build(hwb, one, tmp_path / f"one-{keep}")
        second = build(hwb, two, tmp_path / f"two-{keep}")
    assert len(plans(cache)) == 2
    assert [AHEAD in line for line in driver_lines(first.stderr)] == [True], first.stderr
    assert [AHEAD in line for line in driver_lines(second.stderr)] == [True], second.stderr


def test_a_throwaway_environment_leaves_the_last_plan_alone(hwb: Run, tmp_path: Path, cache: Path) -> None:
    """A build without --cache-envs (its environment removed at the end) between two cached
    ones: the second cached build still finds the first one's plan."""
    root = project(tmp_path / "proj")
    build(hwb, root, tmp_path / "out1")
    before = plans(cache)
    fresh = hwb("build", str(root), "--isolation", "venv", "-vv")
    assert fresh.returncode == 0, fresh.stderr
    assert plans(cache) == before
    again = build(hwb, root, tmp_path / "out2")
    assert [AHEAD in line for line in driver_lines(again.stderr)] == [True], again.stderr


def test_an_environment_made_again_is_not_imported_from_ahead(hwb: Run, tmp_path: Path, cache: Path) -> None:
    """A cached environment past its age limit is replaced at the same path by the build: the
    process started ahead imported from the old one, so the backend runs in a new process."""
    root = project(tmp_path / "proj", extra_toml="[tool.hwb.isolation.venv]\ncache-max-age = 0.00002\n")
    build(hwb, root, tmp_path / "out1")
    time.sleep(2.5)  # past the age limit (about 1.7 s)
    again = build(hwb, root, tmp_path / "out2")
    assert "older than the age limit" in again.stderr, again.stderr
    assert [AHEAD in line for line in driver_lines(again.stderr)] == [False], again.stderr
    assert waiting_drivers(cache) == []


def test_an_environment_installed_into_is_not_imported_from_ahead(hwb: Run, tmp_path: Path, cache: Path) -> None:
    """Something installed into the environment after the process started ahead imported from
    it (here a project plugin adds a distribution to its site-packages while hwb starts): the
    backend runs in a new process."""
    root = project(tmp_path / "proj", extra_toml='[tool.hwb]\nplugins = ["installer"]\n')
    (root / "installer.py").write_text(
        "import glob, os\n"
        "if os.environ.get('AHEAD_INSTALL'):\n"
        "    for site in glob.glob(os.path.join(os.environ['HWB_CACHE_DIR'], 'envs', '*', 'lib', '*', 'site-packages')):\n"
        "        os.makedirs(os.path.join(site, 'extra-1.0.dist-info'), exist_ok=True)\n"
    )
    build(hwb, root, tmp_path / "out1")
    quiet = build(hwb, root, tmp_path / "out2")
    assert [AHEAD in line for line in driver_lines(quiet.stderr)] == [True], quiet.stderr
    changed = build(hwb, root, tmp_path / "out3", env={"AHEAD_INSTALL": "1"})
    assert [AHEAD in line for line in driver_lines(changed.stderr)] == [False], changed.stderr
    assert waiting_drivers(cache) == []


def test_a_plan_whose_interpreter_is_gone_is_ignored(hwb: Run, tmp_path: Path, cache: Path) -> None:
    root = project(tmp_path / "proj")
    build(hwb, root, tmp_path / "out1")
    clear = hwb("cache", "clear")
    assert clear.returncode == 0, clear.stderr
    again = build(hwb, root, tmp_path / "out2")
    assert [AHEAD in line for line in driver_lines(again.stderr)] == [False]
    assert list((tmp_path / "out2").glob("*.whl"))


def test_an_error_before_the_backend_stops_the_process_started_ahead(hwb: Run, tmp_path: Path, cache: Path) -> None:
    root = project(tmp_path / "proj")
    build(hwb, root, tmp_path / "out1")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.hwb]\nnot-a-key = 1\n")
    result = hwb("build", str(root), "--isolation", "venv", "--cache-envs", "-vv")
    assert "not-a-key" in assert_clean_error(result, 2)
    assert waiting_drivers(cache) == []
    assert not list((root / "dist").glob("*.whl"))


def test_a_killed_hwb_takes_the_waiting_process_along(hwb_env: dict[str, str], hwb: Run, tmp_path: Path, cache: Path) -> None:
    """hwb killed (SIGKILL: no clean-up of its own) while the process started ahead waits: the
    waiting process's stdin closes, and it exits."""
    root = project(tmp_path / "proj", extra_toml='[tool.hwb]\nplugins = ["stall"]\n')
    (root / "stall.py").write_text(
        "import os, time\nif os.environ.get('AHEAD_STALL'):\n    time.sleep(60)\n"
    )
    args = ["build", str(root), "--isolation", "venv", "--cache-envs", "-vv"]
    build(hwb, root, tmp_path / "out")
    env = {**hwb_env, "HWB_CACHE_DIR": str(cache), "AHEAD_STALL": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "hwb_core", *args], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not waiting_drivers(cache):
            assert proc.poll() is None, "hwb ended before it stalled"
            assert time.monotonic() < deadline, "no process was started ahead"
            time.sleep(0.02)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 30
    while waiting_drivers(cache):
        assert time.monotonic() < deadline, "the process started ahead outlived hwb"
        time.sleep(0.05)


def test_hwb_no_prestart_turns_it_off(hwb: Run, tmp_path: Path, cache: Path) -> None:
    root = project(tmp_path / "proj")
    build(hwb, root, tmp_path / "out1")
    off = build(hwb, root, tmp_path / "out2", env={"HWB_NO_PRESTART": "1"})
    assert [AHEAD in line for line in driver_lines(off.stderr)] == [False]


# Issue 25: the process started ahead gets what the build's backend would get, and runs only
# where a process started now would behave the same. Each test below plays the attacker (or the
# surprise) and compares the wheel, byte for byte, with one built with HWB_NO_PRESTART=1.

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


def site_packages(cache: Path) -> Path:
    [site] = (cache / "envs").glob("*/lib/python*/site-packages")
    return site


def as_if_made_so(cache: Path) -> None:
    """Record the cached environment's files as they are now, as if what a test wrote into it
    had been installed when it was made (a write hwb did not record would make it anew)."""
    from hwb_plugins.venv.cache import MARKER, fingerprint

    env = site_packages(cache).parents[2]
    record = json.loads((env / MARKER).read_text())
    (env / MARKER).write_text(json.dumps({**record, "tree": fingerprint(env)}))


def probe(cache: Path, log: Path, expression: str) -> None:
    """Log ``expression`` from every interpreter the cached environment starts, before it runs
    anything else (a ``.pth`` file: what a hostile build requirement could install)."""
    (site_packages(cache) / "aheadprobe.pth").write_text(
        f"import os, sys; open({str(log)!r}, 'a').write(repr({expression}) + chr(10))\n"
    )
    as_if_made_so(cache)


def used_ahead(result: subprocess.CompletedProcess[str]) -> bool:
    return [AHEAD in line for line in driver_lines(result.stderr)] == [True] and AFRESH not in result.stderr


def wheel_bytes(keep: Path) -> bytes:
    [wheel] = keep.glob("*.whl")
    return wheel.read_bytes()


def without_prestart(hwb: Run, root: Path, keep: Path, env: dict[str, str]) -> bytes:
    build(hwb, root, keep, env={**env, "HWB_NO_PRESTART": "1"})
    return wheel_bytes(keep)


@pytest.mark.parametrize("backend", ["hatchling", "setuptools"])
def test_a_credential_set_since_the_plan_never_reaches_the_process_started_ahead(hwb: Run, tmp_path: Path, cache: Path, backend: str) -> None:
    root = project(tmp_path / "proj")
    if backend == "setuptools":
        pyproject = root / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('"hatchling"', '"setuptools"').replace("hatchling.build", "setuptools.build_meta"))
    build(hwb, root, tmp_path / "out1", env=EPOCH)
    seen = tmp_path / "seen.txt"
    probe(cache, seen, "(sys.argv[1:2], os.environ.get('GITHUB_TOKEN'), os.environ.get('AHEAD_OTHER'))")
    secret = {**EPOCH, "GITHUB_TOKEN": "ghp_attacker_reads_this", "AHEAD_OTHER": "kept"}
    again = build(hwb, root, tmp_path / "out2", env=secret)
    assert "ghp_attacker" not in seen.read_text()
    # (a .pth file runs twice in an environment whose lib64 links to lib)
    assert set(seen.read_text().splitlines()) == {"(['--wait'], None, 'kept')"}
    assert used_ahead(again), again.stderr
    assert wheel_bytes(tmp_path / "out2") == without_prestart(hwb, root, tmp_path / "out3", secret)


@pytest.mark.parametrize("isolation", ["docker", "auto"])
def test_nothing_is_started_ahead_for_a_build_that_may_run_in_a_container(hwb: Run, tmp_path: Path, cache: Path, isolation: str) -> None:
    """A plan is keyed by the options' values: ``--isolation docker`` never finds the venv
    build's plan. ``auto`` may choose a container next time, so its builds write none."""
    root = project(tmp_path / "proj")
    build(hwb, root, tmp_path / "out1", env=EPOCH)
    seen = tmp_path / "seen.txt"
    probe(cache, seen, "sys.argv[1:2]")
    env = {**EPOCH, "GITHUB_TOKEN": "ghp_attacker_reads_this", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    for _ in range(2):
        hwb("build", str(root), "--isolation", isolation, "--cache-envs", "-vv", env=env)
    assert "--wait" not in (seen.read_text() if seen.exists() else "")
    assert waiting_drivers(cache) == []


@pytest.mark.parametrize("where", ["_backend", "."])
def test_a_module_in_the_project_or_backend_path_wins_over_one_imported_ahead(hwb: Run, tmp_path: Path, cache: Path, where: str) -> None:
    """The hooks import ``colorsys`` (the standard library's, imported ahead next time); then
    the project adds its own ``colorsys.py``, in ``backend-path`` (first on ``sys.path``) or
    at its root (which the build hook puts first)."""
    root = write_project(tmp_path / "proj", {
        "pyproject.toml": """
        [build-system]
        requires = ["hatchling"]
        build-backend = "inbackend"
        backend-path = ["_backend"]

        [project]
        name = "aheaddemo"
        version = "1.0"

        [tool.hatch.build.hooks.custom]
        path = "hook.py"
        """,
        "_backend/inbackend.py": "from hatchling.build import *  # noqa: F403\n",
        "hook.py": """
        import os
        import sys
        from hatchling.builders.hooks.plugin.interface import BuildHookInterface

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import colorsys

        class Hook(BuildHookInterface):
            def initialize(self, version, build_data):
                with open(os.path.join(self.root, "src", "aheaddemo", "colour.txt"), "w") as f:
                    f.write(getattr(colorsys, "MARK", "stdlib"))
        """,
        "src/aheaddemo/__init__.py": "",
    })
    build(hwb, root, tmp_path / "out1", env=EPOCH)
    assert "colorsys" in plans(cache)[0]["modules"]
    (root / where / "colorsys.py").write_text("MARK = 'in-tree'\n")
    again = build(hwb, root, tmp_path / "out2", env=EPOCH)
    [wheel] = (tmp_path / "out2").glob("*.whl")
    assert wheel_members(wheel)["aheaddemo/colour.txt"] == b"in-tree"
    assert wheel.read_bytes() == without_prestart(hwb, root, tmp_path / "out3", EPOCH)
    assert AFRESH in again.stderr, again.stderr


def hooked_project(root: Path, module: str) -> Path:
    """A project whose build hook imports ``module`` (from the environment, when it is there)
    and writes its ``VALUE`` into the wheel."""
    return write_project(root, {
        "pyproject.toml": """
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "aheaddemo"
        version = "1.0"

        [tool.hatch.build.hooks.custom]
        path = "hook.py"

        [tool.hwb]
        plugins = ["editor"]
        """,
        "hook.py": f"""
        import os
        from hatchling.builders.hooks.plugin.interface import BuildHookInterface

        try:
            import {module} as found
        except ImportError:
            found = None

        class Hook(BuildHookInterface):
            def initialize(self, version, build_data):
                with open(os.path.join(self.root, "src", "aheaddemo", "value.txt"), "w") as f:
                    f.write(getattr(found, "VALUE", "-"))
        """,
        # A project plugin, run while hwb starts: with AHEAD_EDIT, it waits until the process
        # started ahead has imported the module, then edits the module in place.
        "editor.py": f"""
        import glob, os, time
        if os.environ.get("AHEAD_EDIT"):
            [site] = glob.glob(os.path.join(os.environ["HWB_CACHE_DIR"], "envs", "*", "lib", "*", "site-packages"))
            marker = os.path.join(os.environ["HWB_CACHE_DIR"], "{module}.imported")
            deadline = time.time() + 30
            while not os.path.exists(marker) and time.time() < deadline:
                time.sleep(0.01)
            with open(os.path.join(site, "{module}.py")) as f:
                text = f.read()
            with open(os.path.join(site, "{module}.py"), "w") as f:
                f.write(text.replace("original", "modified"))
            # Recorded as made so: an edit hwb's fingerprint of the environment does not see.
            import json, pathlib
            from hwb_plugins.venv.cache import MARKER, fingerprint
            env = pathlib.Path(site).parents[2]
            record = json.loads((env / MARKER).read_text())
            (env / MARKER).write_text(json.dumps({{**record, "tree": fingerprint(env)}}))
        """,
        "src/aheaddemo/__init__.py": "",
    })


def test_warnings_issued_while_importing_ahead_appear_as_without_it(hwb: Run, tmp_path: Path, cache: Path) -> None:
    root = hooked_project(tmp_path / "proj", "aheadwarn")
    build(hwb, root, tmp_path / "out0", env=EPOCH)
    (site_packages(cache) / "aheadwarn.py").write_text(
        "import warnings\nwarnings.warn('aheadwarn says hello', UserWarning)\nVALUE = 'warned'\n"
    )
    as_if_made_so(cache)
    first = build(hwb, root, tmp_path / "out1", env=EPOCH)
    again = build(hwb, root, tmp_path / "out2", env=EPOCH)
    assert "aheadwarn" in plans(cache)[0]["modules"]
    plain = hwb("build", str(root), "--isolation", "venv", "--cache-envs", "-vv", env={**EPOCH, "HWB_NO_PRESTART": "1"})

    def warned(result: subprocess.CompletedProcess[str]) -> list[str]:
        return [line for line in result.stderr.splitlines() if "aheadwarn says hello" in line]

    assert warned(again) == warned(first) == warned(plain) != []
    [wheel] = (root / "dist").glob("*.whl")
    assert wheel_bytes(tmp_path / "out2") == wheel.read_bytes()
    assert AFRESH in again.stderr, again.stderr


def test_a_module_edited_after_it_was_imported_ahead_is_imported_again(hwb: Run, tmp_path: Path, cache: Path) -> None:
    root = hooked_project(tmp_path / "proj", "aheadmod")
    build(hwb, root, tmp_path / "out0", env=EPOCH)
    module = site_packages(cache) / "aheadmod.py"
    module.write_text(
        "import os\nopen(os.path.join(os.environ['HWB_CACHE_DIR'], 'aheadmod.imported'), 'w').close()\n"
        "VALUE = 'original'\n"
    )
    as_if_made_so(cache)
    build(hwb, root, tmp_path / "out1", env=EPOCH)
    assert "aheadmod" in plans(cache)[0]["modules"]
    (cache / "aheadmod.imported").unlink()
    time.sleep(0.2)  # the module is not new: only the edit can make it suspect
    edited = build(hwb, root, tmp_path / "out2", env={**EPOCH, "AHEAD_EDIT": "1"})
    assert "modified" in module.read_text()
    [wheel] = (tmp_path / "out2").glob("*.whl")
    assert wheel_members(wheel)["aheaddemo/value.txt"] == b"modified"
    assert wheel.read_bytes() == without_prestart(hwb, root, tmp_path / "out3", EPOCH)
    assert AFRESH in edited.stderr, edited.stderr


def test_a_source_date_epoch_build_uses_the_process_started_ahead(hwb: Run, tmp_path: Path, cache: Path) -> None:
    """With SOURCE_DATE_EPOCH the compiler flags map the build's temporary directory: the
    plan's is replaced by this build's, made ahead."""
    root = project(tmp_path / "proj")
    build(hwb, root, tmp_path / "out1", env=EPOCH)
    [plan] = plans(cache)
    assert plan["work"] and f"-ffile-prefix-map={plan['work']}=/hwb-build" in plan["env_set"]["CFLAGS"]
    again = build(hwb, root, tmp_path / "out2", env=EPOCH)
    assert used_ahead(again), again.stderr
    assert wheel_bytes(tmp_path / "out2") == without_prestart(hwb, root, tmp_path / "out3", EPOCH)
    assert not list((tmp_path / "tmp").glob("hwb-build-*"))


@pytest.mark.parametrize("planted", ["ours", "group-writable directory", "other-writable plan", "another user's plan"])
def test_a_plan_someone_else_could_have_written_is_not_used(hwb: Run, tmp_path: Path, cache: Path, planted: str) -> None:
    """In a shared cache directory an attacker plants a plan that names their program as the
    interpreter. Only a plan of this user's, in a directory of this user's that no one else can
    write to, is used (``ours``: the same plan, left as hwb wrote it, runs the program)."""
    root = project(tmp_path / "proj")
    build(hwb, root, tmp_path / "out1", env=EPOCH)
    [plan_file] = (cache / "prestart").glob("*.json")
    ran = tmp_path / "attacker-ran"
    evil = tmp_path / "evil-python"
    evil.write_text(f"#!/bin/sh\ntouch {ran}\n")
    evil.chmod(0o755)
    plan_file.write_text(json.dumps({**json.loads(plan_file.read_text()), "python": str(evil)}))
    if planted == "group-writable directory":
        plan_file.parent.chmod(0o770)
    elif planted == "other-writable plan":
        plan_file.chmod(0o602)
    elif planted == "another user's plan":
        require(os.geteuid() == 0, "root, to give a plan to another user")
        os.chown(plan_file, 65534, 65534)
    build(hwb, root, tmp_path / "out2", env=EPOCH)
    assert ran.exists() == (planted == "ours")
    # The directory is this user's: hwb closes it again, and writes its own plan there.
    assert plan_file.parent.stat().st_mode & 0o777 == 0o700
    assert json.loads(plan_file.read_text())["python"] != str(evil)


# --------------------------------------------------------------------------- the plugin and its hooks


@pytest.mark.parametrize("how", ["-p", "HWB_DISABLE_PLUGINS"])
def test_with_the_plugin_blocked_builds_are_the_same_without_the_head_start(
    hwb: Run, tmp_path: Path, cache: Path, how: str
) -> None:
    """The plugin ``prestart`` blocked: no process started ahead, no plan, the same wheel."""
    root = project(tmp_path / "proj")
    first = build(hwb, root, tmp_path / "out1")
    assert len(plans(cache)) == 1
    plan_files = sorted((cache / "prestart").glob("*.json"))

    def blocked(keep: Path) -> subprocess.CompletedProcess[str]:
        if how == "-p":
            args = ["-p", "no:prestart", "build", str(root), "--isolation", "venv", "--cache-envs", "-vv"]
            result = hwb(*args)
        else:
            result = hwb("build", str(root), "--isolation", "venv", "--cache-envs", "-vv",
                         env={"HWB_DISABLE_PLUGINS": "prestart"})
        assert result.returncode == 0, result.stderr
        keep.mkdir()
        for wheel in (root / "dist").glob("*.whl"):
            wheel.rename(keep / wheel.name)
        return result

    for n in (2, 3):
        again = blocked(tmp_path / f"out{n}")
        assert [AHEAD in line for line in driver_lines(again.stderr)] == [False], again.stderr
        assert waiting_drivers(cache) == []
    assert sorted((cache / "prestart").glob("*.json")) == plan_files  # none written, none used
    assert AHEAD not in first.stderr
    assert wheel_members(next((tmp_path / "out1").glob("*.whl"))).keys() == wheel_members(
        next((tmp_path / "out3").glob("*.whl"))
    ).keys()


HOOKS_PLUGIN = """
import json, os, subprocess, tempfile
from pathlib import Path
from hwb_core import hookimpl

def note(**what):
    with open(os.environ["HOOKS_LOG"], "a") as log:
        log.write(json.dumps(what) + "\\n")

@hookimpl
def build_work_dir():
    work = Path(tempfile.mkdtemp(prefix="hwb-build-by-a-plugin-"))
    note(hook="build_work_dir", work=str(work))
    return work

@hookimpl
def backend_process(cmd, cwd, environ, env):
    note(hook="backend_process", cmd=[str(c) for c in cmd], cwd=str(cwd))
    if os.environ.get("HOOKS_START"):  # started here, as the core would have
        return subprocess.Popen(
            [str(c) for c in cmd], cwd=cwd, env=dict(environ), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
    return None

@hookimpl
def backend_imported(env, backend, modules, paths):
    note(hook="backend_imported", backend=backend, modules=list(modules)[:5000])
"""


@pytest.mark.parametrize("start", ["", "1"])
def test_a_third_party_plugin_gets_the_work_dir_and_backend_process_hooks(
    hwb: Run, tmp_path: Path, start: str
) -> None:
    """``build_work_dir``, ``backend_process`` and ``backend_imported`` as a third party's
    plugin implements them (here with ``prestart`` blocked): a process the plugin hands over is
    followed as the core's own."""
    root = project(tmp_path / "proj", '[tool.hwb]\nplugins = ["hooks_probe"]')
    (root / "hooks_probe.py").write_text(HOOKS_PLUGIN)
    log = tmp_path / "hooks.jsonl"
    result = hwb("-p", "no:prestart", "build", str(root), "--isolation", "venv", "-v",
                 env={"HOOKS_LOG": str(log), "HOOKS_START": start})
    assert result.returncode == 0, result.stderr
    notes = [json.loads(line) for line in log.read_text().splitlines()]
    assert [n["hook"] for n in notes] == ["build_work_dir", "backend_process", "backend_imported"]
    work = Path(notes[0]["work"])
    assert notes[1]["cmd"][1].endswith("hook_driver.py")
    assert notes[1]["cmd"][2].startswith(str(work))
    assert notes[2]["backend"] == "hatchling.build" and "hatchling.build" in notes[2]["modules"]
    assert not work.exists()  # the core removed it
    [wheel] = (root / "dist").glob("*.whl")
    assert wheel.name == "aheaddemo-1.0-py2.py3-none-any.whl"
