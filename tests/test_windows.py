"""Windows, run on Linux: Visual Studio through vswhere (a stand-in executable prints what the
real one prints), the venv layout and ``[tool.hwb.isolation.venv.windows]``, and the py
launcher finder (output samples of several launcher versions, and a stand-in ``py``)."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hwb.pythons import current
from hwb_core import defaults, host
from hwb_core.config import load_config
from hwb_core.errors import BuildError, ConfigError
from hwb_core.interfaces import EnvRequest, PythonSpec
from hwb_core.pipeline import BuildRequest, Session, build
from hwb_core.plugins import PluginManager
from hwb_core.project import Project
from hwb_plugins import pylauncher
from hwb_plugins import venv as venv_plugin
from hwb_plugins.windows import msvc
from tests.conftest import NullReporter
from tests.plugins.backends import tiny_project


@pytest.fixture
def on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "host_os", lambda: "windows")


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# --------------------------------------------------------------------------- vswhere

# What vswhere 3.1 prints for the command hwb runs (-property installationPath -format json).
VSWHERE_PROPERTY = r"""[
  {
    "installationPath": "C:\\Program Files (x86)\\Microsoft Visual Studio\\2022\\BuildTools"
  }
]
"""
# What it prints without -property (every field; trimmed of the catalog and properties tables).
VSWHERE_FULL = r"""[
  {
    "instanceId": "2d4e5a1b",
    "installDate": "2024-03-12T09:41:13Z",
    "installationName": "VisualStudio/17.9.2+34622.214",
    "installationPath": "C:\\Program Files\\Microsoft Visual Studio\\2022\\Community",
    "installationVersion": "17.9.34622.214",
    "productId": "Microsoft.VisualStudio.Product.Community",
    "productPath": "C:\\Program Files\\Microsoft Visual Studio\\2022\\Community\\Common7\\IDE\\devenv.exe",
    "state": 4294967295,
    "isComplete": true,
    "isLaunchable": true,
    "isPrerelease": false,
    "isRebootRequired": false,
    "displayName": "Visual Studio Community 2022",
    "channelId": "VisualStudio.17.Release",
    "updateDate": "2024-03-12T09:41:13.7741215Z"
  }
]
"""


def test_vswhere_output_gives_the_installation_path() -> None:
    assert msvc.parse_vswhere(VSWHERE_PROPERTY) == [
        Path(r"C:\Program Files (x86)\Microsoft Visual Studio\2022\BuildTools")
    ]
    assert msvc.parse_vswhere(VSWHERE_FULL) == [
        Path(r"C:\Program Files\Microsoft Visual Studio\2022\Community")
    ]
    assert msvc.parse_vswhere("[]\n") == []


@pytest.mark.parametrize("text", ['{"installationPath": "C:\\\\VS"}', '[{"displayName": "VS"}]', "not json"])
def test_vswhere_output_of_another_shape_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        msvc.parse_vswhere(text)


def stand_in_vswhere(program_files: Path, output: str, code: int = 0) -> Path:
    """A vswhere.exe at the installer's place that records its arguments and prints ``output``."""
    record = program_files / "args.json"
    return executable(
        program_files / "Microsoft Visual Studio" / "Installer" / "vswhere.exe",
        f"#!{sys.executable}\nimport json, sys\n"
        f"json.dump(sys.argv[1:], open({str(record)!r}, 'w'))\n"
        f"sys.stdout.write({output!r})\nsys.exit({code})\n",
    )


def test_visual_studio_is_found_with_the_documented_vswhere_command(tmp_path: Path) -> None:
    install = tmp_path / "VS" / "2022" / "BuildTools"
    (install / "VC" / "Auxiliary" / "Build").mkdir(parents=True)
    stand_in_vswhere(tmp_path, json.dumps([{"installationPath": str(install)}], indent=2))
    found = msvc.find_visual_studio({"ProgramFiles(x86)": str(tmp_path)})
    assert found.installation_path == install
    assert json.loads((tmp_path / "args.json").read_text()) == [
        "-latest", "-products", "*", "-requires", "Microsoft.VisualStudio.Component.VC.Tools.x86.x64",
        "-property", "installationPath", "-format", "json",
    ]


def test_no_vswhere_is_one_error_with_the_build_tools_to_install(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as caught:
        msvc.find_visual_studio({"ProgramFiles(x86)": str(tmp_path)})
    assert "Visual Studio was not found" in caught.value.message
    assert caught.value.hint and "Desktop development with C++" in caught.value.hint


def test_visual_studio_without_the_cpp_tools_says_which_workload_to_add(tmp_path: Path) -> None:
    stand_in_vswhere(tmp_path, "[]\n")
    with pytest.raises(BuildError) as caught:
        msvc.find_visual_studio({"ProgramFiles(x86)": str(tmp_path)})
    assert "none of its instances has the C++ build tools" in caught.value.message


def test_a_failing_vswhere_keeps_its_output_in_the_details(tmp_path: Path) -> None:
    stand_in_vswhere(tmp_path, "Error 0x80070005: access denied\n", code=5)
    with pytest.raises(BuildError) as caught:
        msvc.find_visual_studio({"ProgramFiles(x86)": str(tmp_path)})
    assert caught.value.message == "vswhere.exe failed (exit code 5)"
    assert caught.value.details and "access denied" in caught.value.details


def run_build(project: Path, environ: dict[str, str]) -> Any:
    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    request = BuildRequest(source=project, outdir=project / "dist", python=sys.executable,
                           isolation="none", overrides={"repair.mode": "skip"})
    return build(request, Session(pm, NullReporter(), environ))


def test_a_windows_build_of_an_extension_project_stops_early_without_visual_studio(
    on_windows: None, tmp_path: Path
) -> None:
    project = tiny_project(tmp_path / "ext", files={"src/fast.c": "int f(void) { return 1; }\n"})
    with pytest.raises(BuildError) as caught:
        run_build(project, {"ProgramFiles(x86)": str(tmp_path / "nowhere")})
    assert "Visual Studio was not found" in caught.value.message
    assert not (project / "dist").exists() or not list((project / "dist").glob("*.whl"))


def test_a_windows_build_goes_on_once_vswhere_finds_the_cpp_tools(on_windows: None, tmp_path: Path) -> None:
    install = tmp_path / "VS"
    (install / "VC" / "Auxiliary" / "Build").mkdir(parents=True)
    stand_in_vswhere(tmp_path / "pf", json.dumps([{"installationPath": str(install)}]))
    project = tiny_project(tmp_path / "ext", files={"src/fast.c": "int f(void) { return 1; }\n"})
    result = run_build(project, {"ProgramFiles(x86)": str(tmp_path / "pf")})
    assert result.path.name == "tiny-1.0-py3-none-any.whl"
    assert (tmp_path / "pf" / "args.json").exists()


def test_a_pure_project_never_asks_for_visual_studio(on_windows: None, tmp_path: Path) -> None:
    result = run_build(tiny_project(tmp_path / "pure"), {"ProgramFiles(x86)": str(tmp_path / "nowhere")})
    assert result.path.is_file()


# --------------------------------------------------------------------------- the venv isolation


def test_the_venv_interpreter_is_in_scripts_on_windows_and_bin_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir = Path("/e")
    monkeypatch.setattr(host, "host_os", lambda: "windows")
    assert venv_plugin.env_python(env_dir) == env_dir / "Scripts" / "python.exe"
    monkeypatch.setattr(host, "host_os", lambda: "linux")
    assert venv_plugin.env_python(env_dir) == env_dir / "bin" / "python"


WINDOWS_TABLE = {
    "isolation": {"venv": {"windows": {"env": {"XFORMERS_DISABLED": "1"}, "python-path": sys.executable}}}
}


@pytest.fixture
def venv_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """``_venv`` of the venv plugin with creation left out (uv makes bin/ on Linux, whatever
    the host detection says), for the ``[tool.hwb.isolation.venv.windows]`` table."""
    monkeypatch.setattr(venv_plugin.VenvBuildEnv, "create", lambda self: None)

    def make(tool_hwb: dict[str, Any], extra_env: dict[str, str] | None = None) -> Any:
        schema = {**defaults.config_schema(), **venv_plugin.config_schema()}
        config = load_config(schema, tool_hwb=tool_hwb)
        project = tiny_project(tmp_path / "p")
        # The interpreter asked for; python-path (hwb's own) replaces it when the table applies.
        asked = dataclasses.replace(current(), path="/nonexistent/python", source="test")
        request = EnvRequest(python=asked, project=Project.load(project), config=config,
                             reporter=NullReporter(), work_dir=tmp_path / "work",
                             extra_env=extra_env or {})
        return venv_plugin._venv(request)

    yield make


def test_the_windows_table_sets_variables_and_the_interpreter_on_windows(on_windows: None, venv_env: Any) -> None:
    with venv_env(WINDOWS_TABLE, {"FROM_TARGET": "yes"}) as env:
        environ = env.environ()
        assert environ["XFORMERS_DISABLED"] == "1"
        assert environ["FROM_TARGET"] == "yes"
        assert env.python.path == current().path
        assert env.python.source == "python-path"
        assert env.python_executable.endswith(os.path.join("Scripts", "python.exe"))


def test_the_windows_table_is_left_alone_on_linux(monkeypatch: pytest.MonkeyPatch, venv_env: Any) -> None:
    monkeypatch.setattr(host, "host_os", lambda: "linux")
    monkeypatch.delenv("XFORMERS_DISABLED", raising=False)
    with venv_env(WINDOWS_TABLE) as env:
        assert "XFORMERS_DISABLED" not in env.environ()
        assert env.python.path == "/nonexistent/python"


def test_a_windows_python_path_that_is_not_an_interpreter_names_the_windows_key(
    on_windows: None, venv_env: Any, tmp_path: Path
) -> None:
    table = {"isolation": {"venv": {"windows": {"python-path": str(tmp_path / "python.exe")}}}}
    with pytest.raises(ConfigError) as caught, venv_env(table):
        pass
    assert caught.value.message.startswith("isolation.venv.windows.python-path")


def test_a_windows_env_value_must_be_a_string(on_windows: None, venv_env: Any) -> None:
    table = {"isolation": {"venv": {"windows": {"env": {"N": ["a", "b"]}}}}}
    with pytest.raises(ConfigError) as caught, venv_env(table):
        pass
    assert "isolation.venv.windows.env" in caught.value.message


# --------------------------------------------------------------------------- the py launcher

# py -0p of the 3.11+ launcher (PEP 514 tags; default marked after the tag).
LAUNCHER_NEW = r""" -V:3.13 *        C:\Users\ana\AppData\Local\Programs\Python\Python313\python.exe
 -V:3.13t         C:\Users\ana\AppData\Local\Programs\Python\Python313\python3.13t.exe
 -V:3.12          C:\Users\ana\AppData\Local\Programs\Python\Python312\python.exe
 -V:3.11-32       C:\Users\ana\AppData\Local\Programs\Python\Python311-32\python.exe
 -V:3.12-arm64    C:\Program Files\Python312-arm64\python.exe
 -V:ContinuumAnalytics/Anaconda39-64 D:\dev\anaconda3\python.exe
"""
# py -0p of the 3.7-3.10 launchers (header line; default marked after the path).
LAUNCHER_OLD = r"""Installed Pythons found by C:\WINDOWS\py.exe Launcher for Windows
 -3.10-64       C:\Python310\python.exe *
 -3.9-32        C:\Python39-32\python.exe
 -3.8.10-64     C:\Program Files\Python38\python.exe
 -2.7-64        C:\Python27\python.exe
"""
# The 3.11+ launcher inside an active virtual environment, and with nothing installed.
LAUNCHER_VENV = r"""  *               Active venv
 -V:3.12 *        C:\Python312\python.exe
"""
LAUNCHER_NONE = "No installed Pythons found!\n"


def test_the_new_launchers_list_gives_tags_paths_and_the_default() -> None:
    entries = pylauncher.parse_list_paths(LAUNCHER_NEW)
    assert [(e.tag, e.default) for e in entries] == [
        ("3.13", True), ("3.13t", False), ("3.12", False), ("3.11-32", False), ("3.12-arm64", False),
        ("ContinuumAnalytics/Anaconda39-64", False),
    ]
    assert entries[4].path == r"C:\Program Files\Python312-arm64\python.exe"
    assert entries[5].path == r"D:\dev\anaconda3\python.exe"


def test_the_old_launchers_list_gives_tags_paths_and_the_default() -> None:
    entries = pylauncher.parse_list_paths(LAUNCHER_OLD)
    assert [(e.tag, e.path, e.default) for e in entries] == [
        ("3.10-64", r"C:\Python310\python.exe", True),
        ("3.9-32", r"C:\Python39-32\python.exe", False),
        ("3.8.10-64", r"C:\Program Files\Python38\python.exe", False),
        ("2.7-64", r"C:\Python27\python.exe", False),
    ]


def test_an_active_venv_and_the_no_python_message_give_no_entries() -> None:
    assert [e.path for e in pylauncher.parse_list_paths(LAUNCHER_VENV)] == [r"C:\Python312\python.exe"]
    assert pylauncher.parse_list_paths(LAUNCHER_NONE) == []


def stand_in_py(bindir: Path, lines: str) -> Path:
    return executable(bindir / "py", f"#!/bin/sh\n[ \"$1\" = -0p ] || exit 2\ncat <<'EOF'\n{lines}EOF\n")


def test_the_finder_asks_the_launcher_on_windows_and_interrogates_what_it_lists(
    on_windows: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = os.path.realpath(sys.executable)
    stand_in_py(tmp_path, f" -V:3.99 *        {real}\n -V:3.98          C:\\gone\\python.exe\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    found = pylauncher.list_pythons()
    assert [(p.path, p.source) for p in found] == [(real, "pylauncher")]
    spec = PythonSpec.parse(".".join(map(str, sys.version_info[:2])))
    match = pylauncher.find_python(spec)
    assert match is not None and match.path == real


def test_the_finder_runs_nothing_off_windows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(host, "host_os", lambda: "linux")
    stand_in_py(tmp_path, f" -V:3.99 *        {sys.executable}\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert pylauncher.list_pythons() == []


def test_the_launcher_is_found_where_the_installers_put_it(tmp_path: Path) -> None:
    launcher = executable(tmp_path / "Programs" / "Python" / "Launcher" / "py.exe", "")
    assert pylauncher.find_launcher({"PATH": "", "LOCALAPPDATA": str(tmp_path)}) == str(launcher)
    assert pylauncher.find_launcher({"PATH": "", "WINDIR": str(tmp_path / "none")}) is None


def test_the_finders_are_asked_uv_then_the_launcher_and_pyenv_then_system() -> None:
    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    order = [impl.plugin_name for impl in reversed(pm.hook.find_python.get_hookimpls())]
    # `path` answers only a spec naming a file, which the others pass over at once.
    assert order == ["uv", "path", "pylauncher", "pyenv", "system"]
