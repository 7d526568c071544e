"""What the repair tests share (no tests here): the projects of ``tests/data/repair``, building
them with hwb, reading ELF files, and running a command with the system's libyaml hidden."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, require

REPAIR_DATA = DATA / "repair"
LIBYAML = Path("/usr/lib/x86_64-linux-gnu/libyaml-0.so.2.0.9")
MACOS_TOOLS = REPAIR_DATA / "macos-tools"


def project(name: str, tmp_path: Path, pyproject_extra: str = "") -> Path:
    """A private copy of ``tests/data/repair/<name>``, ``pyproject_extra`` appended."""
    require(shutil.which("gcc"), "gcc is needed to build the C extensions")
    if name in ("yamlext", "cudaext"):
        require(Path("/usr/include/yaml.h").is_file() and LIBYAML.is_file(), "libyaml-dev is not installed")
    root = tmp_path / name
    shutil.copytree(REPAIR_DATA / name, root)
    if pyproject_extra:
        with (root / "pyproject.toml").open("a") as f:
            f.write("\n" + pyproject_extra.strip() + "\n")
    return root


def hwb_build(run_hwb: Any, root: Path, out: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``hwb build ROOT --isolation venv --python 3.12 -o OUT --json ARGS``."""
    return run_hwb("build", str(root), "--isolation", "venv", "--python", "3.12", "-o", str(out), "--json", *args, env=env)


def built(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    wheels: list[dict[str, Any]] = json.loads(result.stdout)["wheels"]
    assert len(wheels) == 1, wheels
    return wheels[0]


def extract(wheel: Path, dest: Path) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(dest)
    return dest


def dynamic_section(elf: Path) -> dict[str, list[str]]:
    """``NEEDED`` and ``RUNPATH``/``RPATH`` entries of an ELF file (readelf)."""
    out = subprocess.run(["readelf", "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    found: dict[str, list[str]] = {"NEEDED": [], "RUNPATH": [], "RPATH": []}
    for line in out.splitlines():
        for kind in found:
            if f"({kind})" in line and "[" in line:
                found[kind].append(line.rsplit("[", 1)[1].rstrip("]"))
    return found


def extension(root: Path, package: str) -> Path:
    found = sorted((root / package).glob("*.so"))
    assert len(found) == 1, found
    return found[0]


def require_masking() -> None:
    """Hiding a system library needs a private mount namespace: root and util-linux's unshare."""
    require(hasattr(os, "geteuid") and os.geteuid() == 0, "hiding libyaml needs root (a mount namespace)")
    require(shutil.which("unshare"), "unshare (util-linux) is not installed")
    require(LIBYAML.is_file(), f"{LIBYAML} is not installed (libyaml-0-2)")


def run_without_libyaml(script: str, cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (sh) in a private mount namespace where the system's libyaml is an empty
    file: the loader finds it through ld.so.cache as before and fails to load it ("file too
    short"), so only a copy shipped in the wheel can satisfy the extension."""
    empty = tmp_path / "empty-libyaml"
    empty.write_bytes(b"")
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         f"mount --bind {empty} {LIBYAML} && {script}"],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def python312() -> str:
    from tests.conftest import pyenv_python

    return str(pyenv_python("3.12"))


def record_is_valid(wheel: Path) -> bool:
    """Every member of ``wheel`` is in its RECORD with the right hash and size."""
    import base64
    import csv
    import hashlib
    import io

    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        record = next(n for n in names if n.endswith(".dist-info/RECORD"))
        rows = {row[0]: row for row in csv.reader(io.StringIO(zf.read(record).decode()))}
        for name in names:
            if name.endswith("/") or name == record:
                continue
            data = zf.read(name)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            if rows.get(name, ["", "", ""])[1:] != [f"sha256={digest}", str(len(data))]:
                return False
    return True


def uv() -> str:
    candidate = Path(sys.executable).with_name("uv")
    return str(candidate) if candidate.exists() else "uv"


def test_the_repair_tool_routine_finds_the_one_new_wheel(tmp_path: Path) -> None:
    """``hwb.repairtool.ToolOutput``: the wheel the tool wrote, not one there before; none or
    several is a RepairError with the tool's output."""
    from hwb.repairtool import ToolOutput
    from hwb_core.errors import RepairError

    out = tmp_path / "out"
    out.mkdir()
    (out / "old-1.0-py3-none-any.whl").write_bytes(b"")
    first = ToolOutput(out)
    with pytest.raises(
        RepairError, match=r"mytool reported success but wrote 0 wheels for in\.whl"
    ):
        first.new_wheel("mytool", Path("in.whl"), "its output")
    (out / "new-1.0-cp312-cp312-manylinux_2_28_x86_64.whl").write_bytes(b"")
    assert first.new_wheel("mytool", Path("in.whl"), "") == out / (
        "new-1.0-cp312-cp312-manylinux_2_28_x86_64.whl"
    )
    second = ToolOutput(tmp_path / "made")  # the directory is made
    (second.directory / "a-1.0-py3-none-any.whl").write_bytes(b"")
    (second.directory / "b-1.0-py3-none-any.whl").write_bytes(b"")
    with pytest.raises(RepairError) as info:
        second.new_wheel("mytool", Path("in.whl"), "its output")
    assert "wrote 2 wheels" in info.value.message and info.value.details == "its output"
