"""What plugin authors reported: each test pins one promise of docs/writing-plugins.md and
docs/hooks.md that hwb broke (falsy flag values, the repairer of a pure wheel, settings in an
isolation's check, the backend's working places, the errors about a plugin that failed)."""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from hwb.hostenv import HostBuildEnv
from hwb_core.config import Config, load_config
from hwb_core.interfaces import (
    IsolationChoice,
    IsolationInfo,
    PythonInfo,
    RepairRequest,
    RunResult,
)
from hwb_core.plugins import PluginManager
from tests.conftest import NullReporter, assert_clean_error, json_out, write_project
from tests.plugins.backends import tiny_project


def unique(stem: str) -> str:
    """A module name no earlier test imported (modules are cached per process)."""
    return f"{stem}_{os.urandom(4).hex()}"


@pytest.fixture
def project_plugin(tmp_path: Path) -> Any:
    """``load(source)``: a plugin manager with the core and ``source`` as a project plugin;
    returns ``(pm, module name)``."""
    loaded: list[str] = []

    def load(source: str, stem: str = "authored") -> tuple[PluginManager, str]:
        name = unique(stem)
        directory = tmp_path / "plugins"
        write_project(directory, {f"{name}.py": source})
        pm = PluginManager()
        pm.load_core()
        pm.load_project_plugins(directory, [name])
        loaded.append(name)
        return pm, name

    yield load
    for name in loaded:
        sys.modules.pop(name, None)


# --------------------------------------------------------------------------- 1. falsy flag values

FLAGS = """
from hwb_core import hookimpl
from hwb_core.interfaces import CliOption, ConfigKey


@hookimpl
def config_schema():
    return {
        "authoring.enabled": ConfigKey("bool", True),
        "authoring.count": ConfigKey("int", 5),
        "authoring.label": ConfigKey("str", "x"),
        "authoring.plain": ConfigKey("bool", False),
    }


@hookimpl
def cli_options(command):
    return [
        CliOption(("--off",), "authoring.enabled", "authoring: off.", is_flag=True, flag_value=False),
        CliOption(("--zero",), "authoring.count", "authoring: none.", is_flag=True, flag_value=0),
        CliOption(("--blank",), "authoring.label", "authoring: blank.", is_flag=True, flag_value=""),
        CliOption(("--plain",), "authoring.plain", "authoring: a flag.", is_flag=True),
    ]
"""


class Stop(Exception):
    """Raised by the stand-in build: the command line was parsed, nothing is built."""


def build_overrides(
    pm: PluginManager, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str
) -> dict[str, Any]:
    """The configuration keys ``hwb build ARGS`` sets through plugins' options."""
    import click

    import hwb
    from hwb_core import cli, pipeline

    seen: dict[str, Any] = {}

    def stand_in(request: Any, session: Any) -> Any:
        seen.update(request.overrides)
        raise Stop

    # hwb build's plugin takes it through the toolkit, which keeps a name once looked up:
    # patched there first, so that the name restored afterwards is the real one.
    monkeypatch.setattr(hwb, "build", stand_in)
    monkeypatch.setattr(pipeline, "build", stand_in)
    monkeypatch.setattr(cli, "_state", {"verbosity": 0, "json": False})
    import hwb_plugins.build_command

    # hwb build is a plugin's command: the plugin as its entry point would load it.
    pm._register(
        hwb_plugins.build_command,
        "build-command",
        target="hwb_plugins.build_command",
        origin="entry-point",
    )
    command = cli._make_cli(click, pm)
    with pytest.raises(Stop):
        command.main(args=["build", str(tmp_path), *args], prog_name="hwb", standalone_mode=False)
    return seen


def test_a_flag_whose_flag_value_is_falsy_sets_that_value(
    project_plugin: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pm, _ = project_plugin(FLAGS)
    given = build_overrides(pm, monkeypatch, tmp_path, "--off", "--zero", "--blank", "--plain")
    assert given == {
        "authoring.enabled": False,
        "authoring.count": 0,
        "authoring.label": "",
        "authoring.plain": True,  # a flag without flag_value still gives True
    }
    config = load_config(pm.schema(), overrides=given)
    assert (config.get("authoring.enabled"), config.get("authoring.count")) == (False, 0)
    assert config.get("authoring.label") == ""
    assert config.source("authoring.enabled") == "command line"


def test_a_flag_not_given_sets_nothing(
    project_plugin: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pm, _ = project_plugin(FLAGS)
    assert build_overrides(pm, monkeypatch, tmp_path) == {}
    config = load_config(pm.schema(), overrides={})
    assert (config.get("authoring.enabled"), config.get("authoring.count")) == (True, 5)


# --------------------------------------------------------------------------- 2. a pure wheel's repairer


@pytest.mark.real
def test_a_pure_wheel_names_no_repairer(run_hwb: Any, tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "pure")
    result = run_hwb("build", str(project), "--isolation", "none", "--json")
    (wheel,) = json_out(result)["wheels"]
    assert wheel["filename"] == "tiny-1.0-py3-none-any.whl"
    assert (wheel["repaired"], wheel["repairer"], wheel["policy"]) == (False, None, None)
    assert wheel["repair_note"] == "pure wheel: nothing to repair"


def repair(pm: PluginManager, tmp_path: Path, filename: str) -> Any:
    request = RepairRequest(
        config=load_config(pm.schema()), reporter=NullReporter(), output_dir=tmp_path / "out"
    )
    return pm.hook.repair_wheel(wheel=tmp_path / filename, env=None, request=request)


def test_the_repairer_named_is_the_one_that_acted(tmp_path: Path) -> None:
    """With every built-in repairer installed (auditwheel, delocate, delvewheel): a pure wheel
    is answered by the core with no repairer; a Linux wheel by auditwheel, whatever the order."""
    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    pure = repair(pm, tmp_path, "demo-1.0-py3-none-any.whl")
    assert (pure.repaired, pure.repairer, pure.reason) == (
        False,
        None,
        "pure wheel: nothing to repair",
    )
    tagged = repair(pm, tmp_path, "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl")
    assert (tagged.repaired, tagged.repairer, tagged.policy) == (
        False,
        "auditwheel",
        "manylinux_2_17_x86_64",
    )


# --------------------------------------------------------------------------- 4. settings in a check

GATED = """
from contextlib import contextmanager

from hwb_core import hookimpl
from hwb.hostenv import HostBuildEnv
from hwb_core.interfaces import ConfigKey, IsolationInfo


def check(config):
    reason = config.get("gated.closed")
    return f"the gate is closed ({reason})" if reason else None


@hookimpl
def register_isolation():
    return IsolationInfo("gated", "the host interpreter, behind a gate", check=check)


@hookimpl
def config_schema():
    return {"gated.closed": ConfigKey("str", None, "Why the gate is closed.")}


class GatedEnv(HostBuildEnv):
    isolation = "gated"

    @property
    def python_executable(self):
        return self.python.path

    def install(self, requirements):
        assert not requirements, requirements


@hookimpl
def create_env(isolation, request):
    if isolation != "gated":
        return None

    @contextmanager
    def env():
        yield GatedEnv(python=request.python, source_dir=request.project.root, reporter=request.reporter)

    return env()
"""


@pytest.mark.real
def test_a_check_reads_the_plugins_own_settings(run_hwb: Any, tmp_path: Path) -> None:
    project = tiny_project(
        tmp_path / "proj",
        pyproject_extra="""
        [tool.hwb]
        plugins = ["gated"]

        [tool.hwb.gated]
        closed = "maintenance"
        """,
        files={"gated.py": GATED},
    )
    error = assert_clean_error(run_hwb("build", str(project), "--isolation", "gated"), 2)
    assert "isolation 'gated' cannot run here: the gate is closed (maintenance)" in error
    # The same setting from the environment: empty, the gate is open and the build runs.
    result = run_hwb(
        "build", str(project), "--isolation", "gated", "--json", env={"HWB_GATED_CLOSED": ""}
    )
    assert json_out(result)["wheels"][0]["isolation"] == "gated"


def test_a_check_gets_the_configuration_only_when_it_takes_a_parameter() -> None:
    config = load_config({})
    seen: list[Any] = []

    def one(config: Config) -> str | None:
        seen.append(config)
        return "needs a setting"

    class Engine:
        def check(self, config: Config) -> str | None:
            seen.append(config)
            return None

    assert IsolationInfo("a", "old style", check=lambda: "no engine").why_unavailable(config) == (
        "no engine"
    )
    assert IsolationInfo("b", "new style", check=one).why_unavailable(config) == "needs a setting"
    assert IsolationInfo("c", "a method", check=Engine().check).why_unavailable(config) is None
    assert IsolationInfo("d", "the default").why_unavailable(config) is None
    assert seen == [config, config]


def test_auto_s_fallbacks_pass_the_configuration_to_each_check() -> None:
    from hwb_core import isolation

    config = load_config({})
    asked: list[Any] = []

    def refuses(config: Config) -> str:
        asked.append(config)
        return "refused"

    class Plugins:
        def isolations(self) -> dict[str, IsolationInfo]:
            return {
                "first": IsolationInfo("first", "x", check=refuses),
                "second": IsolationInfo("second", "y", check=lambda: None),
            }

    class Warnings:
        verbosity = 0

        def warn(self, message: str) -> None:
            pass

    pm: Any = Plugins()
    reporter: Any = Warnings()
    start = IsolationChoice("first", "why", ("second",))
    choice = isolation.first_available(pm, reporter, start, config)
    assert choice.name == "second" and asked == [config]


# --------------------------------------------------------------------------- 5. what a backend call touches

RECORDING_BACKEND = """
import json, os, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_backend

ASK = json.loads(os.environ.get("AUTHORING_ASK", "[]"))


def get_requires_for_build_wheel(config_settings=None):
    return ASK


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(os.path.join(wheel_directory, "seen.json"), "w") as stream:
        json.dump({
            "argv": sys.argv,
            "cwd": os.getcwd(),
            "wheel_directory": wheel_directory,
            "tmpdir": os.environ.get("TMPDIR"),
            "environ": dict(os.environ),
        }, stream)
    return tiny_backend.build_wheel(wheel_directory, config_settings)
"""


class RecordingEnv(HostBuildEnv):
    """The interpreter running the tests, as is; every backend process is recorded."""

    isolation = "recording"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[dict[str, Any]] = []
        self.installed: list[list[str]] = []

    @property
    def python_executable(self) -> str:
        return sys.executable

    def install(self, requirements: Sequence[str]) -> None:
        self.installed.append(list(requirements))

    def run_backend_process(
        self,
        cmd: Sequence[str],
        *,
        cwd: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> RunResult:
        # The driver's argv ends with its two files, in its control directory.
        control = Path(cmd[-1]).parent
        self.calls.append(
            {
                "cmd": list(cmd),
                "cwd": cwd,
                "extra_env": dict(extra_env or {}),
                "control": control,
                "control_files": sorted(p.name for p in control.iterdir()),
                "request": json.loads((control / "request.json").read_text())
                if (control / "request.json").is_file()
                else None,
            }
        )
        return super().run_backend_process(cmd, cwd=cwd, extra_env=extra_env)


def backend_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ask: list[str]
) -> tuple[RecordingEnv, Path, Path, dict[str, Any]]:
    from hwb_core.backend import build_wheel
    from hwb_core.project import Project

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR afresh
    monkeypatch.setenv("AUTHORING_ASK", json.dumps(ask))
    root = tiny_project(tmp_path / "src", pyproject_extra="")
    text = (root / "pyproject.toml").read_text().replace("tiny_backend", "recording_backend")
    (root / "pyproject.toml").write_text(text)
    (root / "_backend" / "recording_backend.py").write_text(RECORDING_BACKEND)
    python = PythonInfo(sys.executable, platform.python_version(), "cpython", "cp3", "current")
    env = RecordingEnv(python=python, source_dir=root, reporter=NullReporter())
    wheel_dir = tmp_path / "work" / "wheel"
    wheel_dir.mkdir(parents=True)
    wheel = build_wheel(env, Project.load(root), {}, wheel_dir, NullReporter())
    return env, root, wheel, json.loads((wheel_dir / "seen.json").read_text())


def test_the_backend_runs_once_through_the_driver_in_the_source_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/hooks.md, "What a backend call touches": argv, working directory, control
    directory, wheel directory and TMPDIR of the one backend process on the host."""
    from hwb_core.backend import DRIVER

    env, root, wheel, seen = backend_call(tmp_path, monkeypatch, [])
    (call,) = env.calls
    control = call["control"]
    assert call["cmd"] == [
        sys.executable,
        str(DRIVER),
        str(control / "request.json"),
        str(control / "result.json"),
    ]
    assert DRIVER.is_absolute() and DRIVER.parts[-3:] == ("hwb_core", "_driver", "hook_driver.py")
    # Beside the wheel directory, in the build's work directory (which containers mount).
    assert control.parent == tmp_path / "work" and control.name.startswith("hwb-hooks-")
    assert call["control_files"] == ["request.json"]
    assert set(call["request"]) == {
        "backend",
        "backend_path",
        "config_settings",
        "wheel_directory",
        "installed",
        "after_build",
    }
    assert call["request"]["wheel_directory"] == str(wheel.parent)
    assert call["request"]["after_build"] == []  # no plugin gave a script
    assert call["request"]["backend_path"] == ["_backend"]  # the driver resolves it in its cwd
    assert (call["cwd"], call["extra_env"]) == (root, {})
    assert not control.exists()  # removed once the process ended
    assert seen["argv"][1:] == call["cmd"][2:]
    assert (seen["cwd"], seen["wheel_directory"]) == (str(root), str(wheel.parent))
    assert seen["tmpdir"] == str(tmp_path / "tmp")  # hwb's own, passed on
    assert seen["environ"] == env.environ(backend=True)  # the driver adds no variable of its own
    assert wheel.name == "tiny-1.0-py3-none-any.whl" and env.installed == []


def test_a_backend_that_asks_for_more_builds_in_a_second_driver_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/hooks.md, "A second process, when the backend asks for more": the same driver,
    told the first one's answer, calls build_wheel alone once the core installed it."""
    from hwb_core.backend import DRIVER

    env, root, wheel, seen = backend_call(tmp_path, monkeypatch, ["authoring-extra"])
    assert env.installed == [["authoring-extra"]]
    first, second = env.calls
    for call in (first, second):
        control = call["control"]
        assert call["cmd"] == [
            sys.executable,
            str(DRIVER),
            str(control / "request.json"),
            str(control / "result.json"),
        ]
        assert control.parent == tmp_path / "work" and control.name.startswith("hwb-hooks-")
        assert (call["cwd"], call["extra_env"]) == (root, {})
        assert not control.exists()
    assert first["control"] != second["control"]
    assert "requires" not in first["request"]  # the first one asked; it did not build
    assert second["request"] == {**first["request"], "requires": ["authoring-extra"]}
    assert seen["argv"][1:] == second["cmd"][2:]
    assert seen["cwd"] == str(root) and seen["wheel_directory"] == str(wheel.parent)
    assert seen["environ"] == env.environ(backend=True)
    assert wheel.name == "tiny-1.0-py3-none-any.whl"


# --------------------------------------------------------------------------- 6. a plugin that failed


@pytest.mark.real
def test_an_isolation_whose_plugin_failed_to_load_says_so(run_hwb: Any, tmp_path: Path) -> None:
    project = tiny_project(
        tmp_path / "proj",
        pyproject_extra='[tool.hwb]\nplugins = ["sandbox"]\n',
        files={"sandbox.py": "import hwb_tests_no_such_sandbox_dependency\n"},
    )
    error = assert_clean_error(run_hwb("build", str(project), "--isolation", "sandbox"), 2)
    assert (
        "isolation 'sandbox' is unavailable: plugin 'sandbox' failed to load: "
        "ModuleNotFoundError: No module named 'hwb_tests_no_such_sandbox_dependency'" in error
    )
    assert "install the plugin" not in error


WRONG_SIGNATURE = """
from hwb_core import hookimpl
from hwb_core.interfaces import IsolationInfo


@hookimpl
def register_isolation():
    return IsolationInfo("wrongsig", "never registered")


@hookimpl
def create_env(isolation, request, sandbox_root):
    return None
"""


def test_a_hookimpl_with_an_unknown_argument_is_reported_with_the_hook_and_argument(
    project_plugin: Any,
) -> None:
    pm, name = project_plugin(WRONG_SIGNATURE, "wrongsig")
    record = pm.records[name]
    assert record.status == "failed"
    assert record.error == (
        "PluginValidationError: create_env() takes 'sandbox_root', which hook 'create_env' "
        "does not pass (it passes: isolation, request)"
    )
    assert "\n" not in record.error


def test_an_isolation_of_a_plugin_refused_at_registration_says_why(project_plugin: Any) -> None:
    from hwb_core.errors import UsageError

    pm, name = project_plugin(WRONG_SIGNATURE, "wrongsig")
    with pytest.raises(UsageError) as info:
        pm.require_isolation(name)
    text = info.value.one_line()
    assert f"isolation {name!r} is unavailable: plugin {name!r} failed to load" in text
    assert "'sandbox_root'" in text and "'create_env'" in text
    assert "install the plugin" not in text
    assert pm.not_provided(name).startswith(f"plugin {name!r} failed to load: ")
    assert pm.not_provided("nothing-here") == "no installed plugin provides it"


def test_a_flag_several_plugins_share_keeps_each_plugins_help() -> None:
    """``--cache-envs`` and ``--no-cache-envs`` set one key of venv and one of each container
    engine: each flag's help says what it does for each, once per text."""
    from hwb_core.cli import _shared_help

    merged = _shared_help("venv: reuse cached envs.", "docker: prepared envs (the default).")
    merged = _shared_help(merged, "podman: prepared envs (the default).")
    assert merged == "venv: reuse cached envs. docker, podman: prepared envs (the default)."
    assert _shared_help("docker: build in this image.", "podman: build in this image.") == (
        "docker, podman: build in this image."
    )


def test_the_help_of_shared_flags_is_not_mixed_up(run_hwb: Any) -> None:
    text = " ".join(run_hwb("build", "--help", env={"COLUMNS": "200"}).stdout.split())
    cache = text.split("--cache-envs", 1)[1].split("--no-cache-envs", 1)[0]
    no_cache = text.split("--no-cache-envs", 1)[1].split("--refresh-envs", 1)[0]
    assert "reuse cached build environments" in cache and "afresh" not in cache
    assert "a throwaway build environment" in no_cache and "prepared build environments" not in no_cache


def test_a_command_takes_the_shared_options_as_build_declares_them() -> None:
    """``CommandLine.shared_options`` adds the options every command spells alike, declared
    once: a third party's command gets build's flags, help and parameters, changed only where
    it says so; -C and --no-isolation are turned into what a build takes."""
    import click

    from hwb_core import cli
    from hwb_core.plugins import PluginManager

    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    captured: list[Any] = []
    pm.add_commands = captured.append  # type: ignore[method-assign]
    group = cli._make_cli(click, pm)
    (line,) = captured
    from hwb_plugins.build_command.cli import register

    register(line)  # hwb build is a plugin's command too, on the same CommandLine
    seen: dict[str, Any] = {}

    def grab(**values: Any) -> int:
        seen.update(values)
        return 0

    names = ("isolation", "python", "config_settings", "verbose", "quiet", "json")
    mine = click.command("mine")(line.shared_options(*names, json={"help": "Mine."})(grab))
    build = group.commands["build"]

    def described(command: Any) -> dict[str, tuple[Any, ...]]:
        return {
            p.name: (tuple(p.opts), p.help, p.metavar)
            for p in command.params
            if p.name not in ("src", "outdir") and not p.name.startswith("plugin_")
        }

    theirs, ours = described(mine), described(build)
    assert ours.pop("as_json")[2] == theirs["as_json"][2] and theirs.pop("as_json")[1] == "Mine."
    assert theirs == ours
    mine.main(["--no-isolation", "-C", "a=1", "-C", "a=2", "-vv"], standalone_mode=False)
    assert (seen["python_spec"], seen["verbose"], seen["config_settings"]) == (None, 2, ("a=1", "a=2"))
    assert line.config_settings(seen["config_settings"]) == {"a": ["1", "2"]}
    assert line.resolve_isolation(seen["isolation"], seen["no_isolation"]) == "none"
    with pytest.raises(click.UsageError, match="contradicts"):
        line.resolve_isolation("venv", True)
    with pytest.raises(ValueError, match="no shared option 'colour'"):
        line.shared_options("colour")
