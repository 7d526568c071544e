"""Plugins as users meet them: third-party distributions installed beside hwb, broken ones,
blocked ones, and project-local modules named in ``[tool.hwb] plugins``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hwb_core import __version__
from hwb_core.errors import ConfigError
from hwb_core.plugins import PluginManager
from tests.conftest import REPO, assert_clean_error, json_out, wheel_members, write_project
from tests.plugins.backends import tiny_project

PLUGIN_DISTS = REPO / "tests" / "plugins"
BUILT_IN = ("venv", "none", "uv", "pyenv", "system")
UV = Path(sys.executable).with_name("uv")

Run = Callable[..., subprocess.CompletedProcess[str]]


# --------------------------------------------------------------------------- the plugin venv


@pytest.fixture(scope="session")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding hwb (built from this checkout, not editable) and the two plugin
    distributions from ``tests/plugins``, installed the way a user installs them."""
    uv = str(UV) if UV.exists() else "uv"
    venv = tmp_path_factory.mktemp("plugin-venv") / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    local = ("headless-wheel-builder", "hwb-demo-isolation", "hwb-broken-plugin")
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            # uv may reuse a cached build of a local project: test the checkout as it is now.
            *(arg for name in local for arg in ("--refresh-package", name)),
            str(REPO),
            str(PLUGIN_DISTS / "hwb-demo-isolation"),
            str(PLUGIN_DISTS / "hwb-broken-plugin"),
        ],
        check=True,
    )
    return venv


@pytest.fixture
def venv_hwb(plugin_venv: Path, hwb_env: dict[str, str]) -> Run:
    """Run the plugin venv's ``hwb`` console script."""

    def run(
        *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(plugin_venv / "bin" / "hwb"), *args],
            env={**hwb_env, **(env or {})},
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )

    return run


def plugins_by_name(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in json_out(result)["plugins"]}


def read_marker(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# --------------------------------------------------------------------------- third-party plugins


@pytest.mark.real
def test_plugins_lists_the_third_party_isolation_with_its_distribution(venv_hwb: Run) -> None:
    result = venv_hwb("plugins", "--json")
    demo = plugins_by_name(result)["demo"]
    assert demo["status"] == "loaded"
    assert (demo["distribution"], demo["version"]) == ("hwb-demo-isolation", "1.2.3")
    assert {"create_env", "register_isolation", "config_schema", "cli_options"} <= set(
        demo["hooks"]
    )
    demo_isolation = json_out(result)["isolations"]["demo"]
    assert demo_isolation["capabilities"]["native"] is True
    assert demo_isolation["capabilities"]["rank"] == 70


@pytest.mark.real
def test_a_third_party_plugin_adds_a_command(venv_hwb: Run, tmp_path: Path) -> None:
    """add_commands: the demo plugin's `hwb demo-info` is listed in the help and runs with a
    session of its own (the project's settings through the core's configuration)."""
    assert "demo-info" in venv_hwb("--help").stdout
    project = tiny_project(tmp_path / "proj")
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text() + '\n[tool.hwb.isolation.demo]\nmarker = "m.jsonl"\n'
    )
    result = venv_hwb("demo-info", str(project))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "marker": "m.jsonl",
        "source": str(project / "pyproject.toml"),
    }
    # Blocked, the plugin's command is gone with it.
    blocked = venv_hwb("-p", "no:demo", "demo-info", str(project))
    assert blocked.returncode == 2 and "No such command 'demo-info'" in blocked.stderr


@pytest.mark.real
def test_a_plugin_command_cannot_take_a_name_already_taken(venv_hwb: Run) -> None:
    result = venv_hwb("pythons", "--json", env={"HWB_DEMO_CLASH": "1"})
    assert result.returncode == 0, result.stderr
    assert "pythons" in json_out(result)  # the core's command ran
    assert "plugin 'demo' adds command 'pythons', which is taken; left out" in result.stderr


@pytest.mark.real
def test_plugins_reports_a_plugin_that_raises_on_import_and_loads_the_rest(venv_hwb: Run) -> None:
    plugins = plugins_by_name(venv_hwb("plugins", "--json"))
    broken = plugins["broken"]
    assert broken["status"] == "failed"
    assert broken["error"] == "RuntimeError: hwb-broken-plugin refuses to import"
    assert broken["distribution"] == "hwb-broken-plugin"
    for name in BUILT_IN:
        assert plugins[name]["status"] == "loaded", plugins[name]
        assert (plugins[name]["distribution"], plugins[name]["version"]) == (
            "headless-wheel-builder",
            __version__,
        )


@pytest.mark.real
def test_plugins_table_shows_the_broken_plugin_and_its_error(venv_hwb: Run) -> None:
    result = venv_hwb("plugins")
    assert result.returncode == 0, result.stderr
    broken_row = next(line for line in result.stdout.splitlines() if line.startswith("broken"))
    assert "failed" in broken_row and "RuntimeError" in broken_row


@pytest.mark.real
@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("broken", "RuntimeError: hwb-broken-plugin refuses to import"),
        ("misspelled", "implements unknown hook 'register_isolaton'"),
    ],
)
def test_asking_for_the_isolation_of_a_plugin_that_failed_says_why_it_failed(
    venv_hwb: Run, tmp_path: Path, name: str, why: str
) -> None:
    project = tiny_project(tmp_path / "proj")
    error = assert_clean_error(venv_hwb("build", str(project), "--isolation", name), 2)
    assert f"isolation {name!r} is unavailable: plugin {name!r} failed to load: {why}" in error
    assert "install the plugin" not in error


@pytest.mark.real
def test_a_misspelled_hook_is_refused_with_a_did_you_mean_hint(venv_hwb: Run) -> None:
    result = venv_hwb("plugins", "--json")
    misspelled = plugins_by_name(result)["misspelled"]
    assert misspelled["status"] == "failed"
    assert "'register_isolaton'" in misspelled["error"]
    assert "did you mean 'register_isolation'?" in misspelled["error"]
    assert "misspelled" not in json_out(result)["isolations"]


@pytest.mark.real
def test_build_with_the_third_party_isolation_uses_and_removes_its_environment(
    venv_hwb: Run, tmp_path: Path
) -> None:
    project = write_project(
        tmp_path / "hatched",
        {
            "pyproject.toml": """
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "hatched"
            version = "2.0"
            """,
            "hatched/__init__.py": "ANSWER = 42\n",
        },
    )
    marker = tmp_path / "demo-marker.jsonl"
    result = venv_hwb(
        "build", str(project), "--isolation", "demo", "--demo-marker", str(marker), "--json"
    )
    wheel = json_out(result)["wheels"][0]
    assert wheel["isolation"] == "demo"
    assert "hatched/__init__.py" in wheel_members(Path(wheel["path"]))

    events = read_marker(marker)
    assert [e["event"] for e in events] == ["created", "installed", "removed"]
    assert events[1]["requirements"] == ["hatchling"]
    assert events[2]["exists"] is False
    assert not Path(events[0]["env_dir"]).exists()


@pytest.mark.real
def test_third_party_settings_come_from_pyproject_like_built_in_ones(
    venv_hwb: Run, tmp_path: Path
) -> None:
    marker = tmp_path / "from-pyproject.jsonl"
    project = tiny_project(
        tmp_path / "proj",
        pyproject_extra=f"""
        [tool.hwb.isolation]
        strategy = "demo"

        [tool.hwb.isolation.demo]
        marker = "{marker}"
        """,
    )
    result = venv_hwb("build", str(project), "--json")
    assert json_out(result)["wheels"][0]["isolation"] == "demo"
    assert [e["event"] for e in read_marker(marker)] == ["created", "removed"]


@pytest.mark.real
def test_build_works_with_a_broken_plugin_installed_and_warns_about_it(
    venv_hwb: Run, tmp_path: Path
) -> None:
    project = tiny_project(tmp_path / "proj")
    result = venv_hwb("build", str(project), "--isolation", "venv", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "tiny-1.0-py3-none-any.whl").is_file()
    warnings = [
        line for line in result.stderr.splitlines() if line.startswith("warning: plugin 'broken'")
    ]
    assert len(warnings) == 1
    assert "hwb_broken_plugin.explodes" in warnings[0] and "refuses to import" in warnings[0]


BLOCKING = {
    "-p no:demo": (["-p", "no:demo"], {}),
    "HWB_DISABLE_PLUGINS": ([], {"HWB_DISABLE_PLUGINS": "broken,demo"}),
}


@pytest.mark.real
@pytest.mark.parametrize("how", list(BLOCKING))
def test_a_blocked_plugin_is_listed_as_blocked(venv_hwb: Run, how: str) -> None:
    flags, env = BLOCKING[how]
    result = venv_hwb(*flags, "plugins", "--json", env=env)
    assert plugins_by_name(result)["demo"]["status"] == "blocked"
    assert "demo" not in json_out(result)["isolations"]


@pytest.mark.real
@pytest.mark.parametrize("how", list(BLOCKING))
def test_a_blocked_isolation_cannot_be_asked_for(venv_hwb: Run, tmp_path: Path, how: str) -> None:
    flags, env = BLOCKING[how]
    project = tiny_project(tmp_path / "proj")
    result = venv_hwb(*flags, "build", str(project), "--isolation", "demo", env=env)
    error = assert_clean_error(result, 2)
    assert "unknown isolation 'demo'" in error
    assert "choose one of: auto, docker, none, podman, venv" in error
    assert not (project / "dist").exists()


@pytest.mark.real
def test_settings_of_a_blocked_plugin_are_ignored_not_rejected(
    venv_hwb: Run, tmp_path: Path
) -> None:
    marker = tmp_path / "never.jsonl"
    project = tiny_project(
        tmp_path / "proj",
        pyproject_extra=f"""
        [tool.hwb.isolation.demo]
        marker = "{marker}"
        """,
    )
    result = venv_hwb("-p", "no:demo", "build", str(project), "--isolation", "venv", "--json")
    assert json_out(result)["wheels"][0]["isolation"] == "venv"
    assert not marker.exists()


# --------------------------------------------------------------------------- hwb's own install


def test_built_in_plugins_name_their_distribution(run_hwb: Run) -> None:
    plugins = plugins_by_name(run_hwb("plugins", "--json"))
    for name in BUILT_IN:
        assert plugins[name]["status"] == "loaded"
        assert plugins[name]["distribution"] == "headless-wheel-builder"
        assert plugins[name]["version"] == __version__


def test_blocking_a_name_no_plugin_has_is_reported(run_hwb: Run) -> None:
    plugins = plugins_by_name(run_hwb("-p", "no:nosuchplugin", "plugins", "--json"))
    assert plugins["nosuchplugin"]["status"] == "blocked"
    assert "no installed plugin" in plugins["nosuchplugin"]["error"]


def test_blocking_a_built_in_isolation_removes_it(run_hwb: Run, tmp_path: Path) -> None:
    result = run_hwb(
        "-p", "no:none", "build", str(tiny_project(tmp_path / "proj")), "--no-isolation"
    )
    error = assert_clean_error(result, 2)
    assert "--no-isolation: no installed isolation builds in the interpreter's own environment" in error


# --------------------------------------------------------------------------- project-local plugins


def test_a_project_local_plugin_adds_an_isolation_and_a_setting(
    run_hwb: Run, tmp_path: Path
) -> None:
    stamp = tmp_path / "stamp.json"
    project = tiny_project(
        tmp_path / "proj",
        pyproject_extra=f"""
        [tool.hwb]
        plugins = ["localplugin"]

        [tool.hwb.local]
        stamp = "{stamp}"
        """,
        files={
            "localplugin.py": """
            import json
            from contextlib import contextmanager
            from pathlib import Path

            from hwb_core import hookimpl
            from hwb.hostenv import HostBuildEnv
            from hwb_core.interfaces import ConfigKey, IsolationInfo

            _stamp = []


            @hookimpl
            def register_isolation():
                return IsolationInfo("local", "the host interpreter, for this project only")


            @hookimpl
            def config_schema():
                return {"local.stamp": ConfigKey("path", None, "Where to note each wheel built.")}


            class LocalEnv(HostBuildEnv):
                isolation = "local"

                @property
                def python_executable(self):
                    return self.python.path

                def install(self, requirements):
                    assert not requirements, requirements


            @hookimpl
            def create_env(isolation, request):
                if isolation != "local":
                    return None
                _stamp.append(request.config.get("local.stamp"))

                @contextmanager
                def env():
                    yield LocalEnv(python=request.python, source_dir=request.project.root, reporter=request.reporter)

                return env()


            @hookimpl
            def wheel_built(result):
                Path(_stamp[0]).write_text(json.dumps({"wheel": result.path.name, "isolation": result.isolation}))
            """,
        },
    )
    # Run from elsewhere: the module must be found in the project root, not the working directory.
    result = run_hwb("build", str(project), "--isolation", "local", "--json", cwd=tmp_path)
    wheel = json_out(result)["wheels"][0]
    assert wheel["isolation"] == "local"
    assert json.loads(stamp.read_text()) == {
        "wheel": "tiny-1.0-py3-none-any.whl",
        "isolation": "local",
    }


def test_a_project_local_plugin_that_fails_is_reported_and_the_build_goes_on(
    run_hwb: Run, tmp_path: Path
) -> None:
    project = tiny_project(
        tmp_path / "proj",
        pyproject_extra="""
        [tool.hwb]
        plugins = ["badlocal"]
        """,
        files={"badlocal.py": "import no_such_module_for_hwb_tests\n"},
    )
    result = run_hwb("build", str(project), "--isolation", "venv")
    assert result.returncode == 0, result.stderr
    assert (project / "dist" / "tiny-1.0-py3-none-any.whl").is_file()
    warning = next(line for line in result.stderr.splitlines() if "badlocal" in line)
    assert warning.startswith("warning: project plugin 'badlocal'")
    assert "No module named 'no_such_module_for_hwb_tests'" in warning


def test_project_plugins_must_be_a_list_of_module_names(run_hwb: Run, tmp_path: Path) -> None:
    project = tiny_project(
        tmp_path / "proj", pyproject_extra='[tool.hwb]\nplugins = "localplugin"\n'
    )
    error = assert_clean_error(run_hwb("build", str(project)), 2)
    assert "plugins in [tool.hwb]" in error and "list of module names" in error


# --------------------------------------------------------------------------- the manager itself


def test_two_plugins_declaring_the_same_key_is_an_error_naming_the_second(tmp_path: Path) -> None:
    suffix = os.urandom(4).hex()  # module names are cached per process: keep them unique
    first, second = f"dup_first_{suffix}", f"dup_second_{suffix}"
    declaration = (
        "from hwb_core import hookimpl\n"
        "from hwb_core.interfaces import ConfigKey\n"
        "@hookimpl\n"
        "def config_schema():\n"
        "    return {'shared.key': ConfigKey('str', 'x')}\n"
    )
    (tmp_path / f"{first}.py").write_text(declaration)
    (tmp_path / f"{second}.py").write_text(declaration)
    pm = PluginManager()
    pm.load_core()
    pm.load_project_plugins(tmp_path, [first, second])
    assert [r.status for r in (pm.records[first], pm.records[second])] == ["loaded", "loaded"]
    with pytest.raises(ConfigError, match=r"'shared\.key'") as info:
        pm.schema()
    assert f"plugin {second!r} declares configuration key 'shared.key' a second time" in str(
        info.value
    )
    assert str(tmp_path) not in sys.path


def test_hwb_plugins_and_hwb_pythons_are_plugin_infos_commands(run_hwb: Any) -> None:
    """Both commands come from plugin ``info`` on the add_commands hook: listed as its hooks,
    and gone, with a one-line usage error, when it is blocked."""
    listed = json.loads(run_hwb("plugins", "--json").stdout)
    (info,) = [p for p in listed["plugins"] if p["name"] == "info"]
    assert (info["module"], info["hooks"]) == ("hwb_plugins.info", ["add_commands"])
    for command in ("plugins", "pythons"):
        line = assert_clean_error(run_hwb("-p", "no:info", command), 2)
        assert f"No such command '{command}'" in line


def test_hwb_build_is_plugin_build_commands_command(run_hwb: Any, tmp_path: Path) -> None:
    """``hwb build`` comes from plugin ``build-command`` on the add_commands hook: listed as its
    hook, and gone, with a one-line usage error and nothing built, when it is blocked; the
    other commands stay."""
    listed = json.loads(run_hwb("plugins", "--json").stdout)
    (plugin,) = [p for p in listed["plugins"] if p["name"] == "build-command"]
    assert (plugin["module"], plugin["hooks"]) == ("hwb_plugins.build_command", ["add_commands"])
    project = tiny_project(tmp_path / "proj")
    line = assert_clean_error(run_hwb("-p", "no:build-command", "build", str(project)), 2)
    assert "No such command 'build'" in line
    assert not (project / "dist").exists()
    assert run_hwb("-p", "no:build-command", "plugins").returncode == 0


# --------------------------------------------------------------------------- hooks of a plugin's own

OWNER = (
    "from hwb_core import hookimpl\n"
    "from hwb_core.hookspecs import hookspec\n"
    "class Specs:\n"
    "    @hookspec\n"
    "    def my_checks(self, wheel):\n"
    "        '''What every implementation checks.'''\n"
    "@hookimpl\n"
    "def add_hookspecs(pm):\n"
    "    pm.add_hookspecs(Specs)\n"
    "@hookimpl\n"
    "def my_checks(wheel):\n"
    "    return 'owner saw ' + wheel\n"
)


def _implementer(optional: bool) -> str:
    marker = "@hookimpl(optionalhook=True)" if optional else "@hookimpl"
    return f"from hwb_core import hookimpl\n{marker}\ndef my_checks(wheel):\n    return 'other'\n"


def _load(tmp_path: Path, modules: dict[str, str], blocked: tuple[str, ...] = ()) -> Any:
    for name, source in modules.items():
        (tmp_path / f"{name}.py").write_text(source)
    pm = PluginManager(blocked=blocked)
    pm.load_core()
    pm.load_project_plugins(tmp_path, list(modules))
    return pm


def test_a_plugin_adds_its_own_hook_which_a_plugin_registered_before_it_implements(
    tmp_path: Path,
) -> None:
    suffix = os.urandom(4).hex()
    owner, other = f"owner_{suffix}", f"other_{suffix}"
    pm = _load(tmp_path, {other: _implementer(False), owner: OWNER})
    assert [pm.records[n].status for n in (other, owner)] == ["loaded", "loaded"]
    assert sorted(pm.hook.my_checks(wheel="w")) == ["other", "owner saw w"]
    assert "my_checks" in pm.records[other].hooks
    assert "my_checks" in pm.hook_names() and "wheel_checker" in pm.hook_names()
    assert [owner_name for owner_name, _ in pm.spec_modules] == ["core", owner]


def test_the_hook_of_a_blocked_plugin_fails_a_plain_implementation_but_not_an_optional_one(
    tmp_path: Path,
) -> None:
    suffix = os.urandom(4).hex()
    owner, plain, optional = f"owner_{suffix}", f"plain_{suffix}", f"optional_{suffix}"
    pm = _load(
        tmp_path,
        {owner: OWNER, plain: _implementer(False), optional: _implementer(True)},
        blocked=(owner,),
    )
    assert pm.records[owner].status == "blocked"
    assert pm.records[optional].status == "loaded"
    assert pm.records[plain].status == "failed"
    assert pm.records[plain].error == "implements unknown hook 'my_checks'"


def test_an_add_hookspecs_that_raises_fails_its_plugin_only(tmp_path: Path) -> None:
    suffix = os.urandom(4).hex()
    broken = f"broken_specs_{suffix}"
    source = "from hwb_core import hookimpl\n@hookimpl\ndef add_hookspecs(pm):\n    raise RuntimeError('no specs today')\n"
    pm = _load(tmp_path, {broken: source})
    assert pm.records[broken].status == "failed"
    assert pm.records[broken].error == "RuntimeError: no specs today"
    assert pm.records["core"].status == "loaded"


def test_built_in_plugins_own_the_hooks_only_they_call(run_hwb: Run) -> None:
    """``cache_areas`` is the cache-command plugin's, ``fuse_wheels`` the repair-command
    plugin's: blocking the owner leaves their implementers loaded."""
    from hwb_core import hookspecs

    assert not hasattr(hookspecs, "cache_areas") and not hasattr(hookspecs, "fuse_wheels")
    for owner, implementer in (("cache-command", "venv"), ("repair-command", "delocate")):
        result = run_hwb("-p", f"no:{owner}", "plugins", "--json")
        assert result.returncode == 0, result.stderr
        listed = plugins_by_name(result)
        assert listed[owner]["status"] == "blocked"
        assert listed[implementer]["status"] == "loaded", listed[implementer]
