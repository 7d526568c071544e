"""The delocate repairer (macOS wheels).

Two halves:

* without Apple's tools: which wheels it takes, the architectures and deployment target it
  asks for, the exact ``delocate-wheel`` arguments, how delocate's failures become one-line
  errors (from delocate 0.13's real output), the checks before a universal2 merge, and
  ``hwb repair`` on a machine without the tools;
* for real, on macOS wheels from PyPI, with LLVM's Mach-O tools standing in for Apple's
  (``tests/macos_tools/``, see its README): ``hwb repair`` runs delocate, which reads, rewrites
  and re-checks the binaries, bundles libraries, refuses what it must, and merges two thin
  wheels into a universal2 one with ``hwb repair --fuse``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hwb import wheelfile
from hwb_core import defaults
from hwb_core.config import load_config
from hwb_core.errors import RepairError
from hwb_core.interfaces import RepairRequest, RunResult
from hwb_plugins import delocate
from hwb_plugins.delocate import fuse as dfuse
from hwb_plugins.delocate import repair as drepair
from hwb_plugins.delocate import tools as dtools
from hwb_plugins.matrix.settings import MATRIX_KEYS
from tests.conftest import (
    NullReporter,
    assert_clean_error,
    json_out,
    pyenv_python,
    require,
    wheel_members,
)
from tests.test_repair_support import record_is_valid

TOOLS_SRC = Path(__file__).resolve().parent / "macos_tools"
APPLE_TOOLS = ("otool", "install_name_tool", "lipo", "codesign")
LLVM_TOOLS = ("llvm-otool-14", "llvm-install-name-tool-14", "llvm-lipo-14")

# --------------------------------------------------------------------------- helpers


def macho(*archs: str) -> bytes:
    """A Mach-O header (thin, or fat for several architectures): enough for hwb's own check."""
    cpu = {"x86_64": 0x01000007, "arm64": 0x0100000C, "i386": 7}
    if len(archs) == 1:
        return struct.pack("<II", 0xFEEDFACF, cpu[archs[0]]) + b"\0" * 24
    head = struct.pack(">II", 0xCAFEBABE, len(archs))
    return head + b"".join(struct.pack(">5I", cpu[a], 0, 4096 * (i + 1), 32, 12) for i, a in enumerate(archs))


def make_wheel(directory: Path, tag: str, name: str = "fast", version: str = "1.0",
               python: str = "cp312-cp312", members: dict[str, bytes] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / f"{name}-{version}-{python}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(f"{name}-{version}.dist-info/WHEEL", f"Wheel-Version: 1.0\nTag: {python}-{tag}\n")
        for member, data in (members or {f"{name}/_fast.cpython-312-darwin.so": macho("arm64")}).items():
            zf.writestr(member, data)
    return wheel


class Recorder(NullReporter):
    def __init__(self) -> None:
        super().__init__()
        self.warnings: list[str] = []
        self.steps: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def step(self, message: str) -> None:
        self.steps.append(message)


def request(tmp_path: Path, tool_hwb: dict[str, Any] | None = None, **fields: Any) -> RepairRequest:
    schema = {**defaults.config_schema(), **delocate.config_schema(), **MATRIX_KEYS}
    config = load_config(schema, tool_hwb=tool_hwb or {}, pyproject_path=tmp_path / "pyproject.toml")
    fields.setdefault("reporter", Recorder())
    return RepairRequest(config=config, output_dir=tmp_path / "out", **fields)


# --------------------------------------------------------------------------- which wheels


@pytest.mark.parametrize("tag", ["linux_x86_64", "manylinux_2_28_x86_64", "win_amd64", "musllinux_1_2_aarch64"])
def test_wheels_of_other_platforms_are_not_taken(tmp_path: Path, tag: str) -> None:
    wheel = make_wheel(tmp_path, tag)
    assert delocate.repair_wheel(wheel=wheel, env=None, request=request(tmp_path)) is None


def test_a_wheel_tagged_for_macos_and_another_platform_is_not_taken(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "macosx_11_0_arm64.manylinux_2_28_aarch64")
    assert delocate.repair_wheel(wheel=wheel, env=None, request=request(tmp_path)) is None


def test_a_pure_wheel_is_not_taken(tmp_path: Path) -> None:
    # The core answers for pure wheels, naming no repairer (tests/test_plugin_authoring.py).
    wheel = make_wheel(tmp_path, "any", python="py3-none", members={"fast/__init__.py": b""})
    assert delocate.repair_wheel(wheel=wheel, env=None, request=request(tmp_path)) is None


@pytest.mark.parametrize("tag", ["macosx_11_0_arm64", "macosx_10_9_x86_64", "macosx_10_13_universal2",
                                 "macosx_10_9_x86_64.macosx_11_0_x86_64"])
def test_macos_wheels_are_taken(tmp_path: Path, tag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Path] = []
    monkeypatch.setattr(drepair, "repair", lambda wheel, env, req: seen.append(wheel) or "taken")
    wheel = make_wheel(tmp_path, tag)
    assert delocate.repair_wheel(wheel=wheel, env=None, request=request(tmp_path)) == "taken"
    assert seen == [wheel]


def test_fusing_is_left_to_others_unless_every_wheel_is_a_macos_one(tmp_path: Path) -> None:
    mac = make_wheel(tmp_path, "macosx_11_0_arm64")
    linux = make_wheel(tmp_path, "linux_x86_64")
    assert delocate.fuse_wheels(wheels=[mac, linux], request=request(tmp_path)) is None
    assert delocate.fuse_wheels(wheels=[], request=request(tmp_path)) is None


def test_a_macos_wheel_built_in_a_container_is_refused(tmp_path: Path) -> None:
    class Container:
        on_host = False

        def describe(self) -> str:
            return "docker container hwb-1"

    wheel = make_wheel(tmp_path, "macosx_11_0_arm64")
    with pytest.raises(RepairError) as info:
        drepair.repair(wheel, Container(), request(tmp_path))  # type: ignore[arg-type]
    assert "docker container hwb-1" in info.value.message
    assert "--isolation venv" in (info.value.hint or "")


# --------------------------------------------------------------------------- architectures


@pytest.mark.parametrize(
    ("tag", "archs"),
    [
        ("macosx_11_0_arm64", ["arm64"]),
        ("macosx_10_9_x86_64", ["x86_64"]),
        ("macosx_10_13_universal2", ["x86_64", "arm64"]),
        ("macosx_10_6_intel", ["i386", "x86_64"]),
        ("macosx_10_9_x86_64.macosx_11_0_arm64", ["x86_64", "arm64"]),
    ],
)
def test_the_required_architectures_are_those_the_tag_names(tmp_path: Path, tag: str, archs: list[str]) -> None:
    req = request(tmp_path)
    assert drepair.required_archs(make_wheel(tmp_path, tag), req.config, req) == archs


@pytest.mark.parametrize(
    ("configured", "archs"),
    [(["universal2"], ["x86_64", "arm64"]), (["arm64", "x86_64"], ["x86_64", "arm64"]),
     (["ARM64"], ["arm64"]), (["x86_64", "universal2"], ["x86_64", "arm64"])],
)
def test_require_archs_in_the_delocate_table_wins_over_the_tag(
    tmp_path: Path, configured: list[str], archs: list[str]
) -> None:
    req = request(tmp_path, {"repair": {"delocate": {"require-archs": configured}}})
    assert drepair.required_archs(make_wheel(tmp_path, "macosx_11_0_arm64"), req.config, req) == archs


def test_an_unknown_architecture_is_an_error_naming_where_it_was_written(tmp_path: Path) -> None:
    req = request(tmp_path, {"repair": {"delocate": {"require-archs": ["arm64", "ppc64le"]}}})
    with pytest.raises(RepairError) as info:
        drepair.required_archs(make_wheel(tmp_path, "macosx_11_0_arm64"), req.config, req)
    assert "repair.delocate.require-archs" in info.value.message
    assert "pyproject.toml" in info.value.message
    assert "'ppc64le'" in info.value.message
    assert "universal2" in (info.value.hint or "")


def test_an_unknown_architecture_in_a_tag_is_an_error(tmp_path: Path) -> None:
    req = request(tmp_path)
    with pytest.raises(RepairError, match="unknown macOS architecture 'riscv64'"):
        drepair.required_archs(make_wheel(tmp_path, "macosx_14_0_riscv64"), req.config, req)


def test_tag_parts_and_mach_o_headers() -> None:
    assert dtools.tag_parts("macosx_10_13_universal2") == ("10.13", "universal2")
    with pytest.raises(RepairError):
        dtools.tag_parts("linux_x86_64")
    assert dtools.macho_archs(macho("arm64")) == {"arm64"}
    assert dtools.macho_archs(macho("x86_64", "arm64")) == {"x86_64", "arm64"}
    assert dtools.macho_archs(b"\xca\xfe\xba\xbe\x00\x00\x00\x34") is None  # a Java class file
    assert dtools.macho_archs(b"#!/bin/sh\n") is None


# --------------------------------------------------------------------------- deployment target


def test_without_any_setting_delocate_decides_the_deployment_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MACOSX_DEPLOYMENT_TARGET", raising=False)
    assert drepair.deployment_target(request(tmp_path)) is None


def test_the_deployment_target_comes_from_the_first_source_that_names_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the key's text says: the key itself, a macosx_X_Y repair.policy, then
    MACOSX_DEPLOYMENT_TARGET, then matrix.macos.deployment-target."""
    everything = {"repair": {"delocate": {"deployment-target": "12.0"}},
                  "matrix": {"macos": {"deployment-target": "10.13"}}}
    monkeypatch.setenv("MACOSX_DEPLOYMENT_TARGET", "10.15")
    assert drepair.deployment_target(request(tmp_path, everything, policy="macosx_11_0")) == "12.0"
    del everything["repair"]
    assert drepair.deployment_target(request(tmp_path, everything, policy="macosx_11_0")) == "11.0"
    assert drepair.deployment_target(request(tmp_path, everything, policy="macosx_14_0_arm64")) == "14.0"
    # A policy that is not a macOS one says nothing about macOS.
    assert drepair.deployment_target(request(tmp_path, everything, policy="manylinux_2_28")) == "10.15"
    assert drepair.deployment_target(request(tmp_path, everything)) == "10.15"
    monkeypatch.delenv("MACOSX_DEPLOYMENT_TARGET")
    assert drepair.deployment_target(request(tmp_path, everything)) == "10.13"


@pytest.mark.parametrize("value", ["eleven", "11.0.1.2", "11,0", "v11"])
def test_a_deployment_target_that_is_not_a_version_is_an_error(
    tmp_path: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    req = request(tmp_path, {"repair": {"delocate": {"deployment-target": value}}})
    with pytest.raises(RepairError) as info:
        drepair.deployment_target(req)
    assert info.value.message.startswith("repair.delocate.deployment-target (")
    assert repr(value) in info.value.message
    monkeypatch.setenv("MACOSX_DEPLOYMENT_TARGET", value)
    with pytest.raises(RepairError, match=r"^MACOSX_DEPLOYMENT_TARGET is"):
        drepair.deployment_target(request(tmp_path))


# --------------------------------------------------------------------------- delocate's arguments


def test_the_delocate_arguments_come_from_the_request(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "macosx_10_13_universal2")
    req = request(tmp_path, exclude=["libcuda*", "*libnvrtc*", "libfoo.dylib"], lib_sdir=".libs_here")
    out = tmp_path / "o"
    assert drepair.delocate_args(wheel, out, ["x86_64", "arm64"], req) == [
        "-v", "-w", out, "--require-archs", "x86_64,arm64", "-L", ".libs_here",
        "-e", "libcuda", "-e", "libnvrtc", "-e", "libfoo.dylib", wheel,
    ]


def test_without_settings_only_the_architectures_are_passed(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "macosx_11_0_arm64")
    out = tmp_path / "o"
    assert drepair.delocate_args(wheel, out, ["arm64"], request(tmp_path)) == [
        "-v", "-w", out, "--require-archs", "arm64", wheel,
    ]


@pytest.mark.parametrize("pattern", ["lib*foo", "*", "libfoo-[0-9].dylib", "lib?.dylib"])
def test_an_exclude_pattern_delocate_cannot_express_is_an_error(tmp_path: Path, pattern: str) -> None:
    req = request(tmp_path, exclude=[pattern])
    with pytest.raises(RepairError) as info:
        drepair.delocate_args(make_wheel(tmp_path, "macosx_11_0_arm64"), tmp_path, ["arm64"], req)
    assert repr(pattern) in info.value.message
    assert "libfoo*" in (info.value.hint or "")


def test_strip_is_a_warning_on_macos(tmp_path: Path) -> None:
    req = request(tmp_path, strip=True)
    args = drepair.delocate_args(make_wheel(tmp_path, "macosx_11_0_arm64"), tmp_path, ["arm64"], req)
    assert "--strip" not in args and "-s" not in args
    assert isinstance(req.reporter, Recorder)
    assert req.reporter.warnings == ["repair.strip has no effect on macOS wheels (delocate does not strip)"]


class FakeDelocate:
    """``run_delocate`` replaced: records the call and writes what delocate would write."""

    def __init__(self, returncode: int = 0, output: str = "", writes: dict[str, bytes] | None = None,
                 name: str | None = None) -> None:
        self.calls: list[tuple[str, list[str | Path], dict[str, str] | None]] = []
        self.returncode, self.output, self.writes, self.name = returncode, output, writes, name

    def __call__(self, command: str, args: list[str | Path], reporter: Any,
                 environ: dict[str, str] | None = None) -> RunResult:
        self.calls.append((command, list(args), environ))
        if self.returncode == 0:
            wheel, out = Path(args[-1]), Path(args[args.index("-w") + 1])
            wheelfile.rewrite(wheel, out, add=self.writes, name=self.name)
        return RunResult(self.returncode, self.output)


def test_repair_runs_delocate_wheel_with_the_target_in_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDelocate(writes={"fast/.dylibs/libfoo.1.dylib": macho("arm64")})
    monkeypatch.setattr(drepair, "run_delocate", fake)
    monkeypatch.setattr(drepair, "check_host", lambda: None)
    monkeypatch.setenv("MACOSX_DEPLOYMENT_TARGET", "13.0")
    wheel = make_wheel(tmp_path / "in", "macosx_11_0_arm64")
    req = request(tmp_path, {"repair": {"delocate": {"deployment-target": "11.0"}}}, exclude=["libcuda*"])
    result = drepair.repair(wheel, None, req)
    [(command, args, environ)] = fake.calls
    assert command == "delocate_wheel"
    assert args == ["-v", "-w", req.output_dir, "--require-archs", "arm64", "-e", "libcuda", wheel]
    assert environ is not None and environ["MACOSX_DEPLOYMENT_TARGET"] == "11.0"
    assert result.path == req.output_dir / wheel.name
    assert (result.repaired, result.repairer, result.policy) == (True, "delocate", "macosx_11_0_arm64")
    assert result.bundled == ["libfoo.1.dylib"]
    assert result.reason == "bundled libfoo.1.dylib; checked arm64; tagged macosx_11_0_arm64"
    assert isinstance(req.reporter, Recorder)
    assert req.reporter.steps == [f"repairing {wheel.name} with delocate (arm64, macOS 11.0+)"]


def test_without_a_target_hwb_does_not_pass_its_own_macosx_deployment_target_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """delocate reads MACOSX_DEPLOYMENT_TARGET; with no target named, none is set for it."""
    fake = FakeDelocate()
    monkeypatch.setattr(drepair, "run_delocate", fake)
    monkeypatch.setattr(drepair, "check_host", lambda: None)
    monkeypatch.delenv("MACOSX_DEPLOYMENT_TARGET", raising=False)
    drepair.repair(make_wheel(tmp_path / "in", "macosx_11_0_arm64"), None, request(tmp_path))
    environ = fake.calls[0][2]
    assert environ is not None and "MACOSX_DEPLOYMENT_TARGET" not in environ


def test_a_bundled_library_lacking_an_architecture_is_caught_by_hwb_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """delocate checks only the libraries it copied; hwb checks every binary afterwards."""
    fake = FakeDelocate(writes={"fast/_fast.cpython-312-darwin.so": macho("arm64")})
    monkeypatch.setattr(drepair, "run_delocate", fake)
    monkeypatch.setattr(drepair, "check_host", lambda: None)
    wheel = make_wheel(tmp_path / "in", "macosx_10_13_universal2")
    with pytest.raises(RepairError) as info:
        drepair.repair(wheel, None, request(tmp_path))
    assert info.value.message == (
        f"{wheel.name}: not every binary holds x86_64+arm64 "
        "(fast/_fast.cpython-312-darwin.so lacks x86_64)"
    )


def test_delocate_writing_no_wheel_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drepair, "run_delocate", lambda *a, **k: RunResult(0, "Fixing: x"))
    monkeypatch.setattr(drepair, "check_host", lambda: None)
    with pytest.raises(RepairError, match="delocate reported success but wrote 0 wheels"):
        drepair.repair(make_wheel(tmp_path / "in", "macosx_11_0_arm64"), None, request(tmp_path))


# --------------------------------------------------------------------------- delocate's failures
# What delocate 0.13 printed for these failures with the stand-in tools (the real runs below
# reproduce them).

ARCHS_OUTPUT = """\
Fixing: /w/pyzmq-26.2.0-cp312-cp312-macosx_10_15_universal2.whl
INFO:delocate.delocating:Copying library /opt/thin/libzmq.5.dylib to zmq/.dylibs/libzmq.5.dylib
Traceback (most recent call last):
  File "/x/delocate/delocating.py", line 1094, in delocate_wheel
    raise DelocationError(
delocate.libsana.DelocationError: Some missing architectures in wheel
Required arch x86_64 missing from zmq/backend/cython/_zmq.cpython-312-darwin.so
zmq/.dylibs/libzmq.5.dylib needs archs arm64, x86_64 missing from zmq/.dylibs/libsodium.26.dylib
"""

TARGET_OUTPUT = """\
delocate.libsana.DelocationError: Library dependencies do not satisfy target MacOS version 10.9:
/tmp/tmpg/wheel/zmq/backend/cython/_zmq.cpython-312-darwin.so has a minimum target of 10.15
/tmp/tmpg/wheel/zmq/.dylibs/libzmq.5.dylib has a minimum target of 10.15
Set the environment variable 'MACOSX_DEPLOYMENT_TARGET=10.15' to update minimum supported macOS for this wheel.
"""

NOT_FOUND_OUTPUT = """\
ERROR:delocate.libsana:
/opt/nowhere/libzmq.5.dylib not found:
ERROR:delocate.libsana:/opt/nowhere/libzmq.5.dylib not found, requested by /tmp/tmpx/wheel/zmq/backend/cython/_zmq.cpython-312-darwin.so
Traceback (most recent call last):
  File "/x/delocate/libsana.py", line 330, in _tree_libs_from_libraries
    raise DelocationError("Could not find all dependencies.")
delocate.libsana.DelocationError: Could not find all dependencies.
"""

TOOL_OUTPUT = """\
Traceback (most recent call last):
  File "/x/delocate/tools.py", line 139, in _run
    raise RuntimeError(
RuntimeError: Command ['codesign', '--force', '--sign', '-', '/tmp/t/wheel/a.so'] failed with non-zero exit code 1.
stdout:
stderr:a.so: invalid or unsupported format for signature
"""

WHEEL = Path("pyzmq-26.2.0-cp312-cp312-macosx_10_15_universal2.whl")


def one_line(error: RepairError) -> str:
    text = error.one_line()
    assert "\n" not in text and "Traceback" not in text
    return text


def test_missing_architectures_name_the_binaries() -> None:
    error = drepair.explain_failure(WHEEL, ["x86_64", "arm64"], None, ARCHS_OUTPUT)
    assert error.message == (
        f"{WHEEL.name}: binaries lack required architectures x86_64+arm64 (a library "
        "_zmq.cpython-312-darwin.so links lacks x86_64; libsodium.26.dylib lacks arm64+x86_64 "
        "(needed by libzmq.5.dylib))"
    )
    assert "hwb repair --fuse" in (error.hint or "")
    assert error.details == (
        "Fixing: /w/pyzmq-26.2.0-cp312-cp312-macosx_10_15_universal2.whl\n"
        "INFO:delocate.delocating:Copying library /opt/thin/libzmq.5.dylib to zmq/.dylibs/libzmq.5.dylib\n"
        "delocate.libsana.DelocationError: Some missing architectures in wheel\n"
        "Required arch x86_64 missing from zmq/backend/cython/_zmq.cpython-312-darwin.so\n"
        "zmq/.dylibs/libzmq.5.dylib needs archs arm64, x86_64 missing from zmq/.dylibs/libsodium.26.dylib\n"
    )
    one_line(error)


def test_the_details_shown_with_an_error_leave_python_s_tracebacks_out() -> None:
    chained = TOOL_OUTPUT.replace("RuntimeError: Command", "subprocess.CalledProcessError: x\n\n"
                                  "The above exception was the direct cause of the following exception:\n\n"
                                  "Traceback (most recent call last):\n  File \"y\", line 1, in <module>\n"
                                  "RuntimeError: Command", 1)
    details = drepair.explain_failure(WHEEL, ["arm64"], None, chained).details
    assert details is not None
    assert details.splitlines() == [
        "subprocess.CalledProcessError: x",
        "RuntimeError: Command ['codesign', '--force', '--sign', '-', '/tmp/t/wheel/a.so'] failed with "
        "non-zero exit code 1.",
        "stdout:",
        "stderr:a.so: invalid or unsupported format for signature",
    ]


def test_a_deployment_target_too_old_for_the_libraries_says_what_they_need() -> None:
    error = drepair.explain_failure(WHEEL, ["x86_64", "arm64"], "10.9", TARGET_OUTPUT)
    assert error.message == (
        f"{WHEEL.name}: its binaries need a newer macOS than the deployment target 10.9 (they need 10.15)"
    )
    assert "repair.delocate.deployment-target" in (error.hint or "")
    one_line(error)


def test_a_library_that_is_not_found_is_named_with_the_binary_that_needs_it() -> None:
    error = drepair.explain_failure(WHEEL, ["x86_64", "arm64"], None, NOT_FOUND_OUTPUT)
    assert error.message == (
        f"delocate could not repair {WHEEL.name}: /opt/nowhere/libzmq.5.dylib not found "
        "(needed by zmq/backend/cython/_zmq.cpython-312-darwin.so)"
    )
    assert "repair.exclude" in (error.hint or "")
    one_line(error)


def test_any_other_failure_gives_delocate_s_last_word() -> None:
    error = drepair.explain_failure(WHEEL, ["arm64"], None, TOOL_OUTPUT)
    assert error.message == (
        f"delocate could not repair {WHEEL.name}: Command ['codesign', '--force', '--sign', '-', "
        "'/tmp/t/wheel/a.so'] failed with non-zero exit code 1."
    )
    assert error.hint == "run again with -v to see delocate's output"
    one_line(error)
    assert drepair.explain_failure(WHEEL, ["arm64"], None, "").message.endswith(": no output")


def test_a_failed_run_raises_the_explained_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drepair, "run_delocate", FakeDelocate(returncode=1, output=NOT_FOUND_OUTPUT))
    monkeypatch.setattr(drepair, "check_host", lambda: None)
    with pytest.raises(RepairError, match=r"libzmq\.5\.dylib not found"):
        drepair.repair(make_wheel(tmp_path / "in", "macosx_11_0_arm64"), None, request(tmp_path))
    assert not list((tmp_path / "out").glob("*.whl"))


# --------------------------------------------------------------------------- what may be fused


def thin(tmp_path: Path, arch: str, **kw: Any) -> Path:
    tag = {"x86_64": "macosx_10_13_x86_64", "arm64": "macosx_11_0_arm64"}.get(arch, arch)
    return make_wheel(tmp_path / f"{arch}-{len(list(tmp_path.iterdir()))}", tag, **kw)


def test_two_thin_wheels_of_one_build_are_ordered_x86_64_first(tmp_path: Path) -> None:
    arm = thin(tmp_path, "arm64", name="MarkupSafe")  # an older tool's spelling of the name
    intel = thin(tmp_path, "x86_64", name="markupsafe")
    assert dfuse.check_fusable([arm, intel]) == [intel, arm]


@pytest.mark.parametrize(
    ("other", "differ"),
    [({"name": "slow"}, "projects"), ({"version": "1.1"}, "versions"),
     ({"python": "cp311-cp311"}, "Python tags"), ({"version": "1.0-2"}, "build numbers")],
)
def test_wheels_of_different_builds_are_not_fused(tmp_path: Path, other: dict[str, str], differ: str) -> None:
    intel = thin(tmp_path, "x86_64")
    arm = thin(tmp_path, "arm64", **other)
    with pytest.raises(RepairError) as info:
        dfuse.check_fusable([intel, arm])
    assert info.value.message == f"{intel.name} and {arm.name} are not the same build (their {differ} differ)"
    assert info.value.hint == "merge wheels of the same project, version and Python tags"


def test_the_same_architecture_twice_is_not_fused(tmp_path: Path) -> None:
    one, two = thin(tmp_path, "arm64"), thin(tmp_path, "macosx_12_0_arm64")
    with pytest.raises(RepairError, match=f"^{one.name} and {two.name} are both arm64 wheels$"):
        dfuse.check_fusable([one, two])


@pytest.mark.parametrize("tag", ["macosx_10_13_universal2", "macosx_10_6_intel", "macosx_10_9_x86_64.macosx_11_0_arm64"])
def test_only_thin_x86_64_and_arm64_wheels_are_fused(tmp_path: Path, tag: str) -> None:
    with pytest.raises(RepairError, match="is not a thin x86_64 or arm64 wheel"):
        dfuse.check_fusable([thin(tmp_path, "x86_64"), thin(tmp_path, tag)])


def test_fusing_takes_exactly_two_wheels(tmp_path: Path) -> None:
    with pytest.raises(RepairError, match="not 3"):
        dfuse.check_fusable([thin(tmp_path, "x86_64"), thin(tmp_path, "arm64"), thin(tmp_path, "arm64")])


def test_the_fuse_checks_come_before_the_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_tools() -> None:
        raise AssertionError("check_host called before the wheels were checked")

    monkeypatch.setattr(dfuse, "check_host", no_tools)
    with pytest.raises(RepairError, match="both x86_64"):
        delocate.fuse_wheels(wheels=[thin(tmp_path, "x86_64"), thin(tmp_path, "x86_64")],
                             request=request(tmp_path))


# --------------------------------------------------------------------------- no Apple tools here


def path_without_apple_tools() -> str:
    """This machine's PATH less any directory holding one of Apple's tools (or a stand-in)."""
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not any(os.path.exists(os.path.join(d, tool)) for tool in APPLE_TOOLS)]
    return os.pathsep.join(keep)


def test_check_host_names_the_missing_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", path_without_apple_tools())
    with pytest.raises(RepairError) as info:
        dtools.check_host()
    assert info.value.message == (
        f"delocate needs Apple's otool, install_name_tool, lipo, codesign, not found on this machine ({sys.platform})"
    )
    assert "xcode-select --install" in (info.value.hint or "")


def test_hwb_repair_of_a_macos_wheel_without_the_tools_is_a_clean_error(run_hwb: Any, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "in", "macosx_11_0_arm64")
    out = tmp_path / "wheelhouse"
    result = run_hwb("repair", str(wheel), "-o", str(out), "--json", cwd=tmp_path,
                     env={"PATH": path_without_apple_tools()})
    line = assert_clean_error(result)
    assert line.startswith("error: delocate needs Apple's otool, install_name_tool, lipo, codesign")
    assert not result.stdout or json.loads(result.stdout) == {"wheels": []}
    assert not list(out.glob("*.whl")) and not list(tmp_path.glob("*.whl"))


def test_hwb_repair_fuse_of_different_builds_fails_before_any_tool(run_hwb: Any, tmp_path: Path) -> None:
    """--fuse repairs each wheel first, so without the tools that is the error."""
    intel, arm = thin(tmp_path, "x86_64"), thin(tmp_path, "arm64", version="2.0")
    result = run_hwb("repair", "--fuse", str(intel), str(arm), "-o", str(tmp_path / "o"), cwd=tmp_path,
                     env={"PATH": path_without_apple_tools()})
    assert "delocate needs Apple's" in assert_clean_error(result)
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


# =========================================================================== real runs


@pytest.fixture(scope="session")
def macos_tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/macos_tools/ copied into a directory of executables (whatever the checkout's file
    modes), checked to answer."""
    for tool in LLVM_TOOLS:
        require(shutil.which(tool), f"{tool} (Debian's llvm-14: apt-get install llvm-14; .ci/setup does)")
    bin_dir = tmp_path_factory.mktemp("macos-tools")
    for src in TOOLS_SRC.iterdir():
        if src.name in APPLE_TOOLS or src.suffix == ".py":
            dst = bin_dir / src.name
            shutil.copyfile(src, dst)
            dst.chmod(dst.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return bin_dir


@pytest.fixture
def tools_env(macos_tools: Path, tmp_path: Path) -> dict[str, str]:
    """Environment for ``run_hwb`` with the stand-ins first on PATH, and codesign's log."""
    return {"PATH": f"{macos_tools}{os.pathsep}{os.environ.get('PATH', '')}",
            "HWB_TEST_CODESIGN_LOG": str(tmp_path / "codesign.log")}


#: The wheels the real runs repair: (file name, pip's --platform, requirement).
PYPI_WHEELS = {
    "arm64": ("markupsafe-3.0.3-cp312-cp312-macosx_11_0_arm64.whl", "macosx_11_0_arm64", "markupsafe==3.0.3"),
    "x86_64": ("markupsafe-3.0.3-cp312-cp312-macosx_10_13_x86_64.whl", "macosx_10_13_x86_64", "markupsafe==3.0.3"),
    "old_arm64": ("MarkupSafe-3.0.2-cp312-cp312-macosx_11_0_arm64.whl", "macosx_11_0_arm64", "markupsafe==3.0.2"),
    "zmq": ("pyzmq-26.2.0-cp312-cp312-macosx_10_15_universal2.whl", "macosx_10_15_universal2", "pyzmq==26.2.0"),
}


@pytest.fixture(scope="session")
def pypi_wheels() -> dict[str, Path]:
    """Real macOS wheels from PyPI, downloaded once into a cache (HWB_TEST_WHEEL_CACHE, else
    ~/.cache/hwb-tests/macos-wheels) with pip's --platform."""
    cache = Path(os.environ.get("HWB_TEST_WHEEL_CACHE") or Path.home() / ".cache" / "hwb-tests" / "macos-wheels")
    cache.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path] = {}
    for key, (filename, platform, requirement) in PYPI_WHEELS.items():
        path = cache / filename
        if not path.is_file():
            done = subprocess.run(
                [str(pyenv_python("3.12")), "-m", "pip", "download", "--quiet", "--no-deps",
                 "--disable-pip-version-check", "--only-binary=:all:", "--platform", platform,
                 "--python-version", "3.12", "--dest", str(cache), requirement],
                capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
            )
            require(path.is_file(), f"pip download {requirement} for {platform}: {done.stderr[-500:]}")
        found[key] = path
    return found


def otool_names(tools: Path, binary: Path) -> list[str]:
    """Install names a binary links (``otool -L`` through the stand-in, first architecture)."""
    done = subprocess.run([str(tools / "otool"), "-arch", "all", "-m", "-L", str(binary)],
                          capture_output=True, text=True, check=True)
    names: list[str] = []
    for line in done.stdout.splitlines()[1:]:
        if line.endswith(":"):
            break
        names.append(line.strip().split(" (compatibility")[0])
    return names


def signatures(data: bytes) -> dict[str, bool | None]:
    """Each architecture of a Mach-O file -> whether its code signature's page hashes match
    the code (``None``: not signed). Apple Silicon refuses to load arm64 code without a valid
    one, so this says whether what the stand-ins wrote would load there."""
    cpu = {0x01000007: "x86_64", 0x0100000C: "arm64"}
    if data[:4] == b"\xca\xfe\xba\xbe":
        count = struct.unpack(">I", data[4:8])[0]
        parts = []
        for i in range(count):
            cputype, _sub, offset, size, _align = struct.unpack(">5I", data[8 + 20 * i : 28 + 20 * i])
            parts.append((cpu.get(cputype, hex(cputype)), data[offset : offset + size]))
    else:
        parts = [(cpu.get(struct.unpack("<I", data[4:8])[0], "?"), data)]
    result: dict[str, bool | None] = {}
    for arch, part in parts:
        result[arch] = None
        ncmds, at = struct.unpack("<I", part[16:20])[0], 32
        for _ in range(ncmds):
            cmd, size = struct.unpack("<II", part[at : at + 8])
            if cmd == 0x1D:  # LC_CODE_SIGNATURE
                offset, length = struct.unpack("<II", part[at + 8 : at + 16])
                result[arch] = _code_directories_match(part, part[offset : offset + length])
            at += size
    return result


def _code_directories_match(code: bytes, blob: bytes) -> bool:
    count = struct.unpack(">I", blob[8:12])[0]
    checked = False
    for i in range(count):
        offset = struct.unpack(">I", blob[16 + 8 * i : 20 + 8 * i])[0]
        cd = blob[offset:]
        if struct.unpack(">I", cd[:4])[0] != 0xFADE0C02:  # not a CodeDirectory
            continue
        hash_offset, _ident, _special, slots, limit = struct.unpack(">5I", cd[16:36])
        size, kind, page = cd[36], cd[37], 1 << cd[39]
        algo = {1: hashlib.sha1, 2: hashlib.sha256}[kind]
        for slot in range(slots):
            want = cd[hash_offset + slot * size : hash_offset + (slot + 1) * size]
            if algo(code[slot * page : min((slot + 1) * page, limit)]).digest()[:size] != want:
                return False
        checked = True
    return checked


def extract(wheel: Path, into: Path) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(into)
    return into


def repaired(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    [item] = json_out(result)["wheels"]
    assert "Traceback" not in result.stderr
    return dict(item)


@pytest.mark.real
def test_a_wheel_that_links_only_the_system_passes_through_delocate(
    run_hwb: Any, tools_env: dict[str, str], pypi_wheels: dict[str, Path], tmp_path: Path
) -> None:
    source = pypi_wheels["arm64"]
    item = repaired(run_hwb("repair", str(source), "-o", str(tmp_path / "wh"), "--json", env=tools_env))
    assert item["filename"] == source.name
    assert (item["repaired"], item["repairer"], item["policy"], item["bundled"]) == (
        True, "delocate", "macosx_11_0_arm64", [])
    assert item["repair_note"] == "nothing to bundle; checked arm64; tagged macosx_11_0_arm64"
    out = Path(item["path"])
    assert out.parent == tmp_path / "wh"
    before, after = wheel_members(source), wheel_members(out)
    assert set(after) == set(before)
    # delocate rewrites WHEEL (and so RECORD); the code is as it was.
    assert [n for n in before if after[n] != before[n]] == [
        "markupsafe-3.0.3.dist-info/RECORD", "markupsafe-3.0.3.dist-info/WHEEL"]
    assert record_is_valid(out)


@pytest.mark.real
def test_a_wheel_delocated_before_keeps_its_libraries(
    run_hwb: Any, tools_env: dict[str, str], pypi_wheels: dict[str, Path], tmp_path: Path
) -> None:
    source = pypi_wheels["zmq"]
    item = repaired(run_hwb("repair", str(source), "-o", str(tmp_path / "wh"), "--json", env=tools_env))
    assert (item["filename"], item["policy"], item["bundled"]) == (source.name, "macosx_10_15_universal2", [])
    assert item["repair_note"].startswith("nothing to bundle; checked x86_64+arm64")
    members = wheel_members(Path(item["path"]))
    assert {"zmq/.dylibs/libzmq.5.dylib", "zmq/.dylibs/libsodium.26.dylib"} <= set(members)
    assert record_is_valid(Path(item["path"]))


@pytest.fixture
def unbundled_zmq(pypi_wheels: dict[str, Path], macos_tools: Path, tmp_path: Path) -> dict[str, Path]:
    """pyzmq's universal2 wheel with its .dylibs taken out into a directory outside, its
    extension linking them there by absolute path (the way a local build links Homebrew's):
    a wheel delocate has to bundle for."""
    source = pypi_wheels["zmq"]
    so = "zmq/backend/cython/_zmq.cpython-312-darwin.so"
    libs = tmp_path / "outside" / "lib"
    libs.mkdir(parents=True)
    members = wheel_members(source)
    for name in ("libzmq.5.dylib", "libsodium.26.dylib"):
        (libs / name).write_bytes(members[f"zmq/.dylibs/{name}"])
    ext = tmp_path / "outside" / "_zmq.so"
    ext.write_bytes(members[so])
    subprocess.run([str(macos_tools / "install_name_tool"), "-change",
                    "@loader_path/../../.dylibs/libzmq.5.dylib", str(libs / "libzmq.5.dylib"), str(ext)],
                   check=True, capture_output=True)
    assert otool_names(macos_tools, ext)[0] == str(libs / "libzmq.5.dylib")
    wheel = wheelfile.rewrite(source, tmp_path / "in", add={so: ext.read_bytes()},
                              remove=[n for n in wheelfile.names(source) if n.startswith("zmq/.dylibs/")])
    return {"wheel": wheel, "libs": libs, "ext": ext}


@pytest.mark.real
def test_libraries_linked_from_outside_are_bundled_and_relinked(
    run_hwb: Any, tools_env: dict[str, str], unbundled_zmq: dict[str, Path], macos_tools: Path, tmp_path: Path
) -> None:
    wheel = unbundled_zmq["wheel"]
    item = repaired(run_hwb("repair", str(wheel), "-o", str(tmp_path / "wh"), "--json", env=tools_env))
    assert item["filename"] == wheel.name
    assert item["bundled"] == ["libsodium.26.dylib", "libzmq.5.dylib"]
    assert item["repair_note"] == (
        "bundled libsodium.26.dylib, libzmq.5.dylib; checked x86_64+arm64; tagged macosx_10_15_universal2"
    )
    out = Path(item["path"])
    assert record_is_valid(out)
    site = extract(out, tmp_path / "site")
    assert sorted(p.name for p in (site / "zmq" / ".dylibs").iterdir()) == ["libsodium.26.dylib", "libzmq.5.dylib"]
    ext = next((site / "zmq" / "backend" / "cython").glob("_zmq*.so"))
    assert otool_names(macos_tools, ext)[0] == "@loader_path/../../.dylibs/libzmq.5.dylib"
    libzmq = site / "zmq" / ".dylibs" / "libzmq.5.dylib"
    assert otool_names(macos_tools, libzmq)[1] == "@loader_path/libsodium.26.dylib"
    for binary in (ext, libzmq, site / "zmq" / ".dylibs" / "libsodium.26.dylib"):
        # Every binary delocate changed still holds both architectures, and (LLVM's
        # install_name_tool re-signs what it changes) a valid ad-hoc signature in each.
        assert dtools.macho_archs(binary.read_bytes()) == {"x86_64", "arm64"}
        assert signatures(binary.read_bytes()) == {"x86_64": True, "arm64": True}, binary
    calls = [line.split("\t") for line in Path(tools_env["HWB_TEST_CODESIGN_LOG"]).read_text().splitlines()]
    # delocate verifies the signatures of the libraries it copies, and signs (ad hoc) what it changed.
    assert {tuple(call[:-1]) for call in calls} == {("--verify",), ("--force", "--sign", "-")}
    signed = {call[-1].split("/wheel/")[-1] for call in calls if call[0] == "--force"}
    assert signed >= {"zmq/.dylibs/libzmq.5.dylib", "zmq/backend/cython/_zmq.cpython-312-darwin.so"}
    verified = {Path(call[-1]).name for call in calls if call[0] == "--verify"}
    assert verified == {"libzmq.5.dylib", "libsodium.26.dylib"}


@pytest.mark.real
def test_an_excluded_library_stays_outside(
    run_hwb: Any, tools_env: dict[str, str], unbundled_zmq: dict[str, Path], tmp_path: Path
) -> None:
    item = repaired(run_hwb("repair", str(unbundled_zmq["wheel"]), "-o", str(tmp_path / "wh"),
                            "--exclude", "libsodium*", "--json", env=tools_env))
    assert item["bundled"] == ["libzmq.5.dylib"]
    assert [n for n in wheel_members(Path(item["path"])) if ".dylibs/" in n] == ["zmq/.dylibs/libzmq.5.dylib"]


@pytest.mark.real
def test_a_deployment_target_is_applied_to_the_tag(
    run_hwb: Any, tools_env: dict[str, str], pypi_wheels: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "1"\n[tool.hwb.repair.delocate]\ndeployment-target = "12.0"\n')
    item = repaired(run_hwb("repair", str(pypi_wheels["zmq"]), "--project", str(tmp_path / "proj"),
                            "-o", str(tmp_path / "wh"), "--json", env=tools_env))
    assert item["filename"] == "pyzmq-26.2.0-cp312-cp312-macosx_12_0_universal2.whl"
    assert item["policy"] == "macosx_12_0_universal2"


@pytest.mark.real
def test_a_deployment_target_older_than_the_binaries_is_refused(
    run_hwb: Any, tools_env: dict[str, str], pypi_wheels: dict[str, Path], tmp_path: Path
) -> None:
    result = run_hwb("repair", str(pypi_wheels["zmq"]), "-o", str(tmp_path / "wh"),
                     env={**tools_env, "MACOSX_DEPLOYMENT_TARGET": "10.9"})
    assert assert_clean_error(result) == (
        "error: pyzmq-26.2.0-cp312-cp312-macosx_10_15_universal2.whl: its binaries need a newer macOS "
        "than the deployment target 10.9 (they need 10.15); raise repair.delocate.deployment-target "
        "(or MACOSX_DEPLOYMENT_TARGET), or build those libraries for the older macOS"
    )
    assert not (tmp_path / "wh").exists() or not list((tmp_path / "wh").iterdir())


@pytest.mark.real
def test_a_thin_wheel_asked_for_universal2_is_refused(
    run_hwb: Any, tools_env: dict[str, str], pypi_wheels: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "1"\n[tool.hwb.repair.delocate]\nrequire-archs = ["universal2"]\n')
    result = run_hwb("repair", str(pypi_wheels["arm64"]), "--project", str(tmp_path / "proj"),
                     "-o", str(tmp_path / "wh"), env=tools_env)
    assert "not every binary holds x86_64+arm64 (markupsafe/_speedups.cpython-312-darwin.so lacks x86_64)" \
        in assert_clean_error(result)
    assert not (tmp_path / "wh").exists() or not list((tmp_path / "wh").iterdir())


@pytest.mark.real
def test_a_bundled_library_lacking_an_architecture_is_refused_by_delocate(
    run_hwb: Any, tools_env: dict[str, str], unbundled_zmq: dict[str, Path], macos_tools: Path, tmp_path: Path
) -> None:
    libzmq = unbundled_zmq["libs"] / "libzmq.5.dylib"
    subprocess.run([str(macos_tools / "lipo"), str(libzmq), "-thin", "arm64", "-output", str(libzmq)],
                   check=True, capture_output=True)
    result = run_hwb("repair", str(unbundled_zmq["wheel"]), "-o", str(tmp_path / "wh"), env=tools_env)
    assert assert_clean_error(result).startswith(
        "error: pyzmq-26.2.0-cp312-cp312-macosx_10_15_universal2.whl: binaries lack required architectures "
        "x86_64+arm64 (a library _zmq.cpython-312-darwin.so links lacks x86_64)"
    )


@pytest.mark.real
def test_a_library_that_is_not_there_is_named(
    run_hwb: Any, tools_env: dict[str, str], unbundled_zmq: dict[str, Path], tmp_path: Path
) -> None:
    libs = unbundled_zmq["libs"]
    (libs / "libzmq.5.dylib").unlink()
    result = run_hwb("repair", str(unbundled_zmq["wheel"]), "-o", str(tmp_path / "wh"), env=tools_env)
    assert assert_clean_error(result).startswith(
        "error: delocate could not repair pyzmq-26.2.0-cp312-cp312-macosx_10_15_universal2.whl: "
        f"{libs / 'libzmq.5.dylib'} not found (needed by zmq/backend/cython/_zmq.cpython-312-darwin.so)"
    )


@pytest.mark.real
def test_two_thin_wheels_are_fused_into_universal2(
    run_hwb: Any, tools_env: dict[str, str], pypi_wheels: dict[str, Path], tmp_path: Path
) -> None:
    arm, intel = pypi_wheels["arm64"], pypi_wheels["x86_64"]
    item = repaired(run_hwb("repair", "--fuse", str(arm), str(intel), "-o", str(tmp_path / "wh"), "--json",
                            env=tools_env))
    assert item["input"] == [str(arm), str(intel)]
    assert item["filename"] == "markupsafe-3.0.3-cp312-cp312-macosx_10_13_universal2.whl"
    assert (item["repaired"], item["repairer"], item["policy"], item["bundled"]) == (
        True, "delocate", "macosx_10_13_universal2", [])
    assert item["repair_note"] == f"merged {intel.name} and {arm.name}; every binary holds x86_64+arm64"
    out = Path(item["path"])
    assert out.parent == tmp_path / "wh" and [p.name for p in out.parent.iterdir()] == [out.name]
    assert record_is_valid(out)
    members = wheel_members(out)
    assert set(members) == set(wheel_members(arm))
    so = members["markupsafe/_speedups.cpython-312-darwin.so"]
    assert dtools.macho_archs(so) == {"x86_64", "arm64"}
    # The x86_64 build was not signed (x86_64 needs no signature); lipo keeps each slice as it was.
    assert signatures(so) == {"x86_64": None, "arm64": True}
    assert "Tag: cp312-cp312-macosx_10_13_universal2" in members["markupsafe-3.0.3.dist-info/WHEEL"].decode()


@pytest.mark.real
def test_thin_wheels_of_different_versions_are_not_fused(
    run_hwb: Any, tools_env: dict[str, str], pypi_wheels: dict[str, Path], tmp_path: Path
) -> None:
    old_arm, intel = pypi_wheels["old_arm64"], pypi_wheels["x86_64"]
    result = run_hwb("repair", "--fuse", str(intel), str(old_arm), "-o", str(tmp_path / "wh"), env=tools_env)
    assert assert_clean_error(result) == (
        f"error: {intel.name} and {old_arm.name} are not the same build (their versions differ); "
        "merge wheels of the same project, version and Python tags"
    )
    assert not (tmp_path / "wh").exists() or not list((tmp_path / "wh").iterdir())


def test_the_stand_in_otool_speaks_like_apple_s(macos_tools: Path, pypi_wheels: dict[str, Path], tmp_path: Path) -> None:
    """What delocate parses: per-architecture headers for universal files, ``-m`` accepted, and
    the line delocate recognises for a file that is not Mach-O."""
    site = extract(pypi_wheels["zmq"], tmp_path / "site")
    lib = site / "zmq" / ".dylibs" / "libzmq.5.dylib"
    otool = str(macos_tools / "otool")
    listing = subprocess.run([otool, "-arch", "all", "-m", "-L", str(lib)], capture_output=True, text=True,
                             check=True).stdout
    assert [line for line in listing.splitlines() if line.endswith(":")] == [
        f"{lib} (architecture x86_64):", f"{lib} (architecture arm64):"]
    ids = subprocess.run([otool, "-arch", "all", "-m", "-D", str(lib)], capture_output=True, text=True,
                         check=True).stdout
    assert ids.splitlines()[1] == "/DLC/zmq/.dylibs/libzmq.5.dylib"
    text = site / "zmq" / "__init__.py"
    other = subprocess.run([otool, "-arch", "all", "-m", "-L", str(text)], capture_output=True, text=True)
    assert "is not an object file" in (other.stdout + other.stderr).splitlines()[0]
    lipo = subprocess.run([str(macos_tools / "lipo"), "-create", str(text), str(text), "-output",
                           str(tmp_path / "x")], capture_output=True, text=True)
    assert lipo.returncode == 1
    assert "can't figure out the architecture type of: " in lipo.stderr
    info = subprocess.run([str(macos_tools / "lipo"), "-info", str(lib)], capture_output=True, text=True,
                          check=True).stdout
    assert info.strip() == f"Architectures in the fat file: {lib} are: x86_64 arm64"
