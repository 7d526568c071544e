"""The delvewheel repairer: which wheels it takes, the arguments it builds from the
configuration, its errors, and a run through a stand-in ``delvewheel`` module (the real one
needs Windows' DLLs)."""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hwb_core import defaults, host
from hwb_core.config import load_config
from hwb_core.errors import RepairError
from hwb_core.interfaces import RepairRequest
from hwb_plugins import delvewheel
from hwb_plugins import repair as repair_plugin
from hwb_plugins.delvewheel import repair as dw
from tests.conftest import NullReporter


def make_wheel(directory: Path, tag: str, members: dict[str, bytes] | None = None) -> Path:
    wheel = directory / f"fast-1.0-cp312-cp312-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("fast-1.0.dist-info/WHEEL", f"Wheel-Version: 1.0\nTag: cp312-cp312-{tag}\n")
        for name, data in (members or {"fast/_fast.pyd": b"MZ"}).items():
            zf.writestr(name, data)
    return wheel


def request(tmp_path: Path, tool_hwb: dict[str, Any] | None = None, **fields: Any) -> RepairRequest:
    schema = {**defaults.config_schema(), **repair_plugin.config_schema(), **delvewheel.config_schema()}
    pyproject = tmp_path / "pyproject.toml"
    config = load_config(schema, tool_hwb=tool_hwb or {}, pyproject_path=pyproject)
    repair = config.get("repair.exclude")
    return RepairRequest(config=config, reporter=NullReporter(), output_dir=tmp_path / "out",
                         exclude=list(repair), lib_sdir=config.get("repair.lib-sdir"), **fields)


@pytest.mark.parametrize("tag", ["linux_x86_64", "manylinux_2_28_x86_64", "macosx_11_0_arm64"])
def test_wheels_of_other_platforms_are_not_taken(tmp_path: Path, tag: str) -> None:
    wheel = make_wheel(tmp_path, tag)
    assert delvewheel.repair_wheel(wheel=wheel, env=None, request=request(tmp_path)) is None


def test_a_pure_wheel_is_not_taken(tmp_path: Path) -> None:
    # The core answers for pure wheels, naming no repairer (tests/test_plugin_authoring.py).
    wheel = make_wheel(tmp_path, "any")
    assert delvewheel.repair_wheel(wheel=wheel, env=None, request=request(tmp_path)) is None


def test_the_arguments_come_from_the_repair_tables(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "win_amd64")
    tool = {"repair": {
        "exclude": ["nvcuda*", "cudart64_12.dll"], "lib-sdir": ".dlls",
        "delvewheel": {"add-path": ["vendor/bin", "C:/abs" if os.name == "nt" else "/abs"],
                       "no-mangle": ["libomp*"], "namespace-pkg": ["ns", "ns2.sub"]},
    }}
    req = request(tmp_path, tool)
    args = [str(a) for a in dw.delvewheel_args(wheel, tmp_path / "out", req)]
    assert args == [
        "repair", "-v", "-w", str(tmp_path / "out"),
        "--add-path", str(tmp_path / "vendor" / "bin"), "--add-path", "C:/abs" if os.name == "nt" else "/abs",
        "--exclude", "nvcuda*", "--exclude", "cudart64_12.dll",
        "--no-mangle", "libomp*",
        "-L", ".dlls",
        "--namespace-pkg", "ns;ns2.sub",
        str(wheel),
    ]


def test_without_settings_only_the_output_and_the_wheel_are_given(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "win_arm64")
    args = dw.delvewheel_args(wheel, tmp_path / "out", request(tmp_path))
    assert args == ["repair", "-v", "-w", tmp_path / "out", wheel]


@pytest.mark.parametrize("pattern", ["lib?.dll", "[ab].dll", "dir/x.dll"])
def test_a_pattern_delvewheel_cannot_take_is_an_error(tmp_path: Path, pattern: str) -> None:
    req = request(tmp_path, {"repair": {"exclude": [pattern]}})
    with pytest.raises(RepairError) as caught:
        dw.delvewheel_args(make_wheel(tmp_path, "win_amd64"), tmp_path / "out", req)
    assert "repair.exclude" in caught.value.message and "* as the only wildcard" in caught.value.message


def test_off_windows_the_repair_says_where_it_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(host, "host_os", lambda: "linux")
    with pytest.raises(RepairError) as caught:
        delvewheel.repair_wheel(wheel=make_wheel(tmp_path, "win_amd64"), env=None, request=request(tmp_path))
    assert "repairs Windows wheels on Windows (this machine runs Linux)" in caught.value.message
    assert caught.value.hint and "--no-repair" in caught.value.hint


def test_a_missing_delvewheel_is_an_error_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(host, "host_os", lambda: "windows")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if "delvewheel" not in p])
    if "delvewheel" in sys.modules:  # pragma: no cover - never imported by hwb
        monkeypatch.delitem(sys.modules, "delvewheel")
    import importlib.util

    assert importlib.util.find_spec("delvewheel") is None  # not a dependency off Windows
    with pytest.raises(RepairError) as caught:
        delvewheel.repair_wheel(wheel=make_wheel(tmp_path, "win_amd64"), env=None, request=request(tmp_path))
    assert caught.value.message.startswith("delvewheel is not installed beside hwb")
    assert caught.value.hint and "pip install 'delvewheel>=1.7'" in caught.value.hint


# A stand-in for `python -m delvewheel`: records its arguments and writes what delvewheel writes
# (the wheel with a name-mangled DLL in <package>.libs), or fails as delvewheel does.
STAND_IN = '''
import json, os, shutil, sys, zipfile
args = sys.argv[1:]
json.dump(args, open(os.environ["DELVE_RECORD"], "w"))
if os.environ.get("DELVE_FAIL"):
    print("Traceback (most recent call last):")
    print("FileNotFoundError: Unable to find library: libyaml.dll")
    sys.exit(1)
wheel, out = args[-1], args[args.index("-w") + 1]
dest = os.path.join(out, os.path.basename(wheel))
shutil.copy(wheel, dest)
with zipfile.ZipFile(dest, "a") as zf:
    zf.writestr("fast.libs/libyaml-3a1b2c3d4e5f60718293a4b5c6d7e8f9.dll", b"MZ")
'''


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    package = tmp_path / "standin" / "delvewheel"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(STAND_IN)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "standin"))
    monkeypatch.syspath_prepend(str(tmp_path / "standin"))
    monkeypatch.setenv("DELVE_RECORD", str(tmp_path / "args.json"))
    monkeypatch.setattr(host, "host_os", lambda: "windows")
    return tmp_path / "args.json"


def test_a_repair_reports_the_bundled_dlls_under_their_own_names(stand_in: Path, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "win_amd64")
    result = delvewheel.repair_wheel(wheel=wheel, env=None, request=request(tmp_path))
    assert result is not None
    assert (result.repaired, result.repairer, result.bundled, result.policy) == (
        True, "delvewheel", ["libyaml.dll"], "win_amd64",
    )
    assert result.path.parent == tmp_path / "out"
    assert json.loads(stand_in.read_text())[0] == "repair"


def test_a_dll_delvewheel_cannot_find_points_at_add_path(
    stand_in: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DELVE_FAIL", "1")
    with pytest.raises(RepairError) as caught:
        delvewheel.repair_wheel(wheel=make_wheel(tmp_path, "win_amd64"), env=None, request=request(tmp_path))
    assert caught.value.message == "fast-1.0-cp312-cp312-win_amd64.whl loads libyaml.dll, which delvewheel could not find"
    assert caught.value.hint and "add-path" in caught.value.hint
