"""The platform layer: targets, what the backend hears for them, the tags it must produce, and
that a build on macOS (host detection monkeypatched) hands those variables to a real backend."""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from hwb import target as target_words
from hwb_core import defaults, host
from hwb_core import target as targets
from hwb_core.config import Config, load_config
from hwb_core.errors import BuildError, ConfigError, UsageError
from hwb_core.interfaces import PythonInfo, RepairRequest
from hwb_core.pipeline import BuildRequest, Session, build
from hwb_core.plugins import PluginManager
from hwb_core.target import Target
from hwb_plugins import windows as windows_plugin
from hwb_plugins.delocate import config_schema as delocate_schema
from hwb_plugins.delocate.repair import deployment_target, required_archs
from hwb_plugins.macos import rules as macos_rules
from hwb_plugins.matrix.jobs import SKIPPED, WAITING, Job
from hwb_plugins.matrix.routing import Machine, classify
from hwb_plugins.matrix.settings import MATRIX_KEYS
from tests.conftest import NullReporter, write_project


def python(tag: str = "macosx_10_9_universal2", path: str = "/usr/bin/python3") -> PythonInfo:
    return PythonInfo(path=path, version="3.12.1", implementation="cpython", abi_tag="cp312",
                      source="test", platform_tag=tag)


_PM: list[PluginManager] = []


def plugins() -> PluginManager:
    if not _PM:
        pm = PluginManager()
        pm.load_core()
        pm.load_entry_points()
        _PM.append(pm)
    return _PM[0]


def parse_target(text: str) -> Target:
    """--platform as the plugins and the kernel read it, before resolution."""
    return macos_rules.parse(text) or windows_plugin.parse(text) or target_words.parse_target(text)


def resolve_target(asked: str | None, cfg: Config, py: PythonInfo, environ: Mapping[str, str]) -> Target:
    return targets.resolve(plugins(), asked, cfg, py, environ)


def config(tool_hwb: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    schema = {**defaults.config_schema(), **MATRIX_KEYS}
    return load_config(schema, tool_hwb=tool_hwb or {}, environ=environ or {})


@pytest.fixture
def on_macos(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "host_os", lambda: "macos")
    monkeypatch.setattr(host, "host_arch", lambda os_name=None: "arm64")


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "os_name", "arch", "version"),
    [
        ("macosx-11.0-universal2", "macos", "universal2", "11.0"),
        ("macosx_10_13_x86_64", "macos", "x86_64", "10.13"),
        ("macos", "macos", None, None),
        ("macos-arm64", "macos", "arm64", None),
        ("macos-aarch64", "macos", "arm64", None),
        ("darwin", "macos", None, None),
        ("macos-12", "macos", None, "12.0"),
        ("windows", "windows", None, None),
        ("win-amd64", "windows", "x86_64", None),
        ("win_amd64", "windows", "x86_64", None),
        ("win-arm64", "windows", "arm64", None),
        ("win32", "windows", "x86", None),
        ("linux", "linux", None, None),
        ("linux-arm64", "linux", "aarch64", None),
        ("Linux_x86_64", "linux", "x86_64", None),
    ],
)
def test_a_platform_text_is_parsed_into_a_target(
    text: str, os_name: str, arch: str | None, version: str | None
) -> None:
    target = parse_target(text)
    assert (target.os, target.arch, target.deployment_target, target.asked) == (
        os_name, arch, version, True,
    )


@pytest.mark.parametrize(("text", "says", "hint"), [
    ("beos", "unknown platform 'beos'", "macosx-11.0-universal2"),
    ("macos-sparc", "unknown macos architecture 'sparc'", "x86_64, arm64, universal2"),
    ("win-ppc", "unknown windows architecture 'ppc'", "x86_64, arm64, x86"),
    ("", "--platform is empty", "macosx-11.0-universal2"),
])
def test_an_unknown_platform_is_a_usage_error_with_the_forms(text: str, says: str, hint: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_target(text)
    assert says in caught.value.message
    assert caught.value.hint and hint in caught.value.hint


def test_universal2_means_both_architectures() -> None:
    assert Target("macos", "universal2").archs == ("x86_64", "arm64")
    assert Target("macos", "arm64").archs == ("arm64",)


# --------------------------------------------------------------------------- resolving


def test_on_macos_the_matrix_macos_table_chooses_universal2_and_the_deployment_target(on_macos: None) -> None:
    cfg = config({"matrix": {"macos": {"universal2": True, "deployment-target": "11.0"}}})
    target = resolve_target(None, cfg, python(), {})
    assert (target.os, target.arch, target.deployment_target) == ("macos", "universal2", "11.0")
    assert target.source.startswith("matrix.macos.deployment-target")


def test_the_deployment_target_asked_for_wins_over_config_and_environment(on_macos: None) -> None:
    cfg = config({"matrix": {"macos": {"deployment-target": "12.0"}}})
    target = resolve_target(
        "macosx-10.15-x86_64", cfg, python(), {"MACOSX_DEPLOYMENT_TARGET": "13.0"}
    )
    assert (target.arch, target.deployment_target, target.source) == ("x86_64", "10.15", "--platform")


def test_without_configuration_the_environment_then_the_interpreter_give_the_target(on_macos: None) -> None:
    from_env = resolve_target("macos-x86_64", config(), python(), {"MACOSX_DEPLOYMENT_TARGET": "10.14"})
    assert (from_env.deployment_target, from_env.source) == ("10.14", "MACOSX_DEPLOYMENT_TARGET")
    from_python = resolve_target("macos-x86_64", config(), python("macosx_10_13_x86_64"), {})
    assert from_python.deployment_target == "10.13"


def test_a_thin_interpreter_gives_its_own_architecture_and_others_the_machines(on_macos: None) -> None:
    assert resolve_target(None, config(), python("macosx_10_9_x86_64"), {}).arch == "x86_64"
    assert resolve_target(None, config(), python("macosx_10_9_universal2"), {}).arch == "arm64"


def test_arm64_is_never_built_for_a_macos_older_than_11(on_macos: None) -> None:
    target = resolve_target("macosx-10.9-arm64", config(), python(), {})
    assert target.deployment_target == "11.0"
    assert "first macOS on arm64" in target.source


def test_a_deployment_target_that_is_not_a_version_names_its_key(on_macos: None) -> None:
    cfg = config({"matrix": {"macos": {"deployment-target": "big sur"}}})
    with pytest.raises(ConfigError) as caught:
        resolve_target("macos-arm64", cfg, python(), {})
    assert "matrix.macos.deployment-target" in caught.value.message


def test_a_macos_target_on_linux_is_refused_with_where_to_build_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "host_os", lambda: "linux")
    with pytest.raises(UsageError) as caught:
        resolve_target("macosx-11.0-universal2", config(), python(), {})
    assert caught.value.message == "macOS wheels are built on macOS; this machine runs Linux"


def test_linux_targets_are_the_linux_plugins_and_blocked_this_machine_is_still_built_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``OS[-ARCH]`` is read by the ``linux`` plugin (``resolve_target``, trylast); with it
    blocked, a build without ``--platform`` is for this machine and a Linux platform asked for
    is a one-line error."""
    monkeypatch.setattr(host, "host_os", lambda: "linux")
    monkeypatch.setattr(host, "host_arch", lambda os_name=None: "x86_64")
    assert resolve_target("linux/arm64", config(), python(), {}) == Target(
        "linux", "aarch64", asked=True
    )
    assert resolve_target("linux", config(), python(), {}).arch == "x86_64"
    with pytest.raises(UsageError, match="Windows wheels are built on Windows"):
        resolve_target("windows-x86", config(), python(), {})
    pm = PluginManager(blocked={"linux"})
    pm.load_core()
    pm.load_entry_points()
    assert pm.records["linux"].status == "blocked"
    assert targets.resolve(pm, None, config(), python(), {}) == Target("linux", "x86_64")
    with pytest.raises(UsageError) as caught:
        targets.resolve(pm, "linux-aarch64", config(), python(), {})
    assert caught.value.message == "unknown platform 'linux-aarch64'"
    assert "no installed plugin builds for it" in (caught.value.hint or "")


def test_a_windows_target_must_match_the_interpreters_architecture(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "host_os", lambda: "windows")
    amd64 = python("win_amd64", r"C:\Python312\python.exe")
    assert resolve_target(None, config(), amd64, {}).arch == "x86_64"
    assert resolve_target("win-amd64", config(), amd64, {}).arch == "x86_64"
    with pytest.raises(UsageError) as caught:
        resolve_target("win-arm64", config(), amd64, {})
    assert "builds win_amd64 wheels, not win_arm64" in caught.value.message


# --------------------------------------------------------------------------- environment and tags


@pytest.mark.parametrize(("arch", "version", "archflags", "host_platform", "tag"), [
    ("x86_64", "10.9", "-arch x86_64", "macosx-10.9-x86_64", "macosx_10_9_x86_64"),
    ("arm64", "11.0", "-arch arm64", "macosx-11.0-arm64", "macosx_11_0_arm64"),
    ("universal2", "11.0", "-arch x86_64 -arch arm64", "macosx-11.0-universal2", "macosx_11_0_universal2"),
    ("arm64", "12.3", "-arch arm64", "macosx-12.0-arm64", "macosx_12_0_arm64"),
])
def test_the_backend_environment_and_tags_of_a_macos_target(
    arch: str, version: str, archflags: str, host_platform: str, tag: str
) -> None:
    target = Target("macos", arch, version)
    assert macos_rules.backend_environment(target) == {
        "MACOSX_DEPLOYMENT_TARGET": version,
        "ARCHFLAGS": archflags,
        "_PYTHON_HOST_PLATFORM": host_platform,
    }
    assert macos_rules.wheel_tags(target) == [tag]


@pytest.mark.parametrize(("arch", "tag"), [("x86_64", "win_amd64"), ("arm64", "win_arm64"), ("x86", "win32")])
def test_windows_targets_need_no_variables_and_have_windows_tags(arch: str, tag: str) -> None:
    target = Target("windows", arch)
    assert macos_rules.backend_environment(target) == {}
    assert windows_plugin.WINDOWS_TAGS[target.arch or ""] == tag
    windows_plugin.check_wheel(target, Path(f"a-1-cp312-cp312-{tag}.whl"))


def test_a_wheel_of_another_architecture_than_asked_fails_the_build() -> None:
    target = Target("macos", "universal2", "11.0", "--platform")
    assert macos_rules.check_wheel_tags(target, "a.whl", ["macosx_11_0_universal2"]) is None
    assert macos_rules.check_wheel_tags(target, "a.whl", ["any"]) is None
    with pytest.raises(BuildError) as caught:
        macos_rules.check_wheel_tags(target, "a.whl", ["macosx_11_0_arm64"])
    assert "ARCHFLAGS='-arch x86_64 -arch arm64'" in caught.value.message
    with pytest.raises(BuildError):
        windows_plugin.check_wheel(Target("windows", "arm64"), Path("a-1-cp312-cp312-win_amd64.whl"))


def test_a_raised_macos_version_is_a_warning() -> None:
    target = Target("macos", "arm64", "11.0", "matrix.macos.deployment-target")
    warning = macos_rules.check_wheel_tags(target, "a.whl", ["macosx_13_0_arm64"])
    assert warning is not None and "rather than macosx_11_0_arm64" in warning


# --------------------------------------------------------------------------- the matrix and delocate


def test_a_macos_matrix_job_on_a_mac_carries_its_target() -> None:
    job = Job(python="3.12", platform="macos", arch="universal2", interpreter=python())
    classify(job, Machine("macos", "arm64", lambda _a: False, lambda _n: None))
    assert (job.status, job.overrides) == (WAITING, {"platform": "macos-universal2"})


def test_a_windows_matrix_job_on_linux_is_skipped_with_the_reason() -> None:
    job = Job(python="3.12", platform="windows", arch="arm64", interpreter=python())
    classify(job, Machine("linux", "x86_64", lambda _a: False, lambda _n: None))
    assert (job.status, job.error) == (SKIPPED, "Windows wheels are built on Windows; this machine runs Linux")


def test_delocate_requires_the_architectures_and_macos_of_the_target(tmp_path: Path) -> None:
    wheel = tmp_path / "a-1.0-cp312-cp312-macosx_11_0_arm64.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("a-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: cp312-cp312-macosx_11_0_arm64\n")
    cfg = load_config({**defaults.config_schema(), **delocate_schema()})
    request = RepairRequest(config=cfg, reporter=NullReporter(), output_dir=tmp_path,
                            target=Target("macos", "universal2", "11.0", "--platform"))
    assert required_archs(wheel, cfg, request) == ["x86_64", "arm64"]
    assert deployment_target(request) == "11.0"
    # Without a target (hwb repair of a wheel built elsewhere) the tags decide.
    request.target = None
    assert required_archs(wheel, cfg, request) == ["arm64"]


# --------------------------------------------------------------------------- what a real backend hears

ENV_BACKEND = '''
import json, os, sysconfig, zipfile

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    # Tagged the way bdist_wheel tags: from sysconfig.get_platform().
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    name = f"envdump-1.0-py3-none-{plat}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        zf.writestr("envdump/environ.json", json.dumps(dict(os.environ)))
        zf.writestr("envdump-1.0.dist-info/WHEEL", f"Wheel-Version: 1.0\\nTag: py3-none-{plat}\\n")
        zf.writestr("envdump-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: envdump\\nVersion: 1.0\\n")
        zf.writestr("envdump-1.0.dist-info/RECORD", "")
    return name
'''


def env_project(root: Path, extra: str = "") -> Path:
    return write_project(root, {
        "pyproject.toml": f'''
            [build-system]
            requires = []
            build-backend = "env_backend"
            backend-path = ["_backend"]

            [project]
            name = "envdump"
            version = "1.0"
            {extra}
            ''',
        "_backend/env_backend.py": ENV_BACKEND,
    })


def build_and_read_env(project: Path, overrides: dict[str, Any] | None = None) -> tuple[str, dict[str, str]]:
    pm = PluginManager()
    pm.load_core()
    pm.load_entry_points()
    request = BuildRequest(
        source=project, outdir=project / "dist", python=sys.executable, isolation="venv",
        # This machine only pretends to be a Mac: neither repair nor a test could run here.
        overrides={"repair.mode": "skip", "test.enabled": False, **(overrides or {})},
    )
    result = build(request, Session(pm, NullReporter()))
    with zipfile.ZipFile(result.path) as zf:
        return result.path.name, json.loads(zf.read("envdump/environ.json"))


def test_a_build_on_macos_gives_the_backend_the_targets_variables(on_macos: None, tmp_path: Path) -> None:
    project = env_project(tmp_path / "p", '''
            [tool.hwb.matrix.macos]
            deployment-target = "11.0"
            universal2 = true
    ''')
    name, environ = build_and_read_env(project)
    assert environ["MACOSX_DEPLOYMENT_TARGET"] == "11.0"
    assert environ["ARCHFLAGS"] == "-arch x86_64 -arch arm64"
    assert environ["_PYTHON_HOST_PLATFORM"] == "macosx-11.0-universal2"
    assert name == "envdump-1.0-py3-none-macosx_11_0_universal2.whl"


def test_platform_asked_for_on_the_command_line_reaches_the_backend(on_macos: None, tmp_path: Path) -> None:
    name, environ = build_and_read_env(env_project(tmp_path / "p"), {"platform": "macosx-10.13-x86_64"})
    assert (environ["ARCHFLAGS"], environ["MACOSX_DEPLOYMENT_TARGET"]) == ("-arch x86_64", "10.13")
    assert name.endswith("-macosx_10_13_x86_64.whl")


def test_a_build_on_linux_adds_no_macos_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(host, "host_os", lambda: "linux")
    monkeypatch.delenv("ARCHFLAGS", raising=False)
    monkeypatch.delenv("MACOSX_DEPLOYMENT_TARGET", raising=False)
    project = env_project(tmp_path / "p", '''
            [tool.hwb.matrix.macos]
            deployment-target = "11.0"
    ''')
    name, environ = build_and_read_env(project)
    assert "ARCHFLAGS" not in environ and "MACOSX_DEPLOYMENT_TARGET" not in environ
    import sysconfig

    assert name == f"envdump-1.0-py3-none-{sysconfig.get_platform().replace('-', '_')}.whl"


def test_a_linux_target_of_another_architecture_reaches_the_key_the_strategy_declares() -> None:
    from hwb_core.interfaces import Capabilities, ConfigKey, IsolationInfo
    from hwb_core.pipeline import with_target

    class Plugins:
        def isolations(self) -> dict[str, IsolationInfo]:
            caps = Capabilities(container=True, target_key="isolation.box.platform")
            return {"box": IsolationInfo("box", "stand-in", capabilities=caps),
                    "venv": IsolationInfo("venv", "stand-in", capabilities=Capabilities(native=True))}

    pm: Any = Plugins()
    schema = {**defaults.config_schema(), "isolation.box.platform": ConfigKey("str", None)}
    target = parse_target("linux/arm64")
    assert (target.os, target.arch) == ("linux", "aarch64")
    assert with_target(load_config(schema), pm, "box", target).get("isolation.box.platform") == "linux/arm64"
    # The key set by itself wins; a strategy without one, or a target nobody asked for, adds nothing.
    own = load_config(schema, tool_hwb={"isolation": {"box": {"platform": "linux/amd64"}}})
    assert with_target(own, pm, "box", target).get("isolation.box.platform") == "linux/amd64"
    assert with_target(load_config(schema), pm, "venv", target).get("isolation.box.platform") is None
    plain = with_target(load_config(schema), pm, "box", Target("linux", "aarch64"))
    assert plain.get("isolation.box.platform") is None


def test_a_third_party_target_plugin_is_asked_like_the_built_in_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """resolve_target, prepare_target and check_wheel of a project-local plugin: its target
    is used, its variables reach the backend, and it sees the wheel before repair."""
    module = "target_probe_plugin"
    project = env_project(tmp_path / "p", f'[tool.hwb]\nplugins = ["{module}"]\nplatform = "probe-os"')
    (project / f"{module}.py").write_text(
        "import json, os\n"
        "from hwb_core import hookimpl, host\n"
        "from hwb_core.target import Target\n"
        "@hookimpl\n"
        "def resolve_target(asked):\n"
        "    if asked == 'probe-os':\n"
        "        return Target('linux', host.host_arch('linux'), source='probe', asked=True)\n"
        "@hookimpl\n"
        "def prepare_target(target):\n"
        "    return {'HWB_PROBE_TARGET': target.spec + ' from ' + target.source}\n"
        "@hookimpl\n"
        "def check_wheel(target, wheel):\n"
        "    with open(os.environ['HWB_PROBE_LOG'], 'a') as f:\n"
        "        f.write(json.dumps([target.spec, wheel.name]) + '\\n')\n"
    )
    log = tmp_path / "checked.jsonl"
    monkeypatch.setenv("HWB_PROBE_LOG", str(log))
    name, environ = build_and_read_env(project)
    arch = host.host_arch("linux")
    assert environ["HWB_PROBE_TARGET"] == f"linux-{arch} from probe"
    assert json.loads(log.read_text()) == [f"linux-{arch}", name]
