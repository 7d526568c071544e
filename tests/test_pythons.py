"""Finding interpreters for real: pyenv's versions directory (never its shims), an interpreter
managed by uv, and every form ``--python`` takes.

Which interpreter ran a build is read back from the wheel itself: the ``probe`` sample's
setup.py records ``sys.prefix`` and ``sys.base_prefix`` of the backend's process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, PYENV_VERSIONS, json_out, pyenv_python, require

Run = Callable[..., subprocess.CompletedProcess[str]]

PYENV_SHIMS = PYENV_VERSIONS.parent / "shims"
CHECKED_VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]


def build_probe(run_hwb: Run, tmp_path: Path, *args: str, env: dict[str, str]) -> dict[str, Any]:
    """Build the probe project with ``args``; the JSON wheel entry plus ``built_with``, what
    the backend's interpreter recorded about itself."""
    src = tmp_path / "src"
    shutil.copytree(DATA / "build_real" / "probe", src)
    result = run_hwb(
        "build",
        str(src),
        "-o",
        str(tmp_path / "out"),
        "--isolation",
        "venv",
        "--json",
        *args,
        env=env,
    )
    (wheel,) = json_out(result)["wheels"]
    with zipfile.ZipFile(wheel["path"]) as zf:
        wheel["built_with"] = json.loads(zf.read("hwbt_probe/built_with.json"))
    return dict(wheel)


def pythons_json(run_hwb: Run, env: dict[str, str]) -> list[dict[str, Any]]:
    result = run_hwb("pythons", "--json", env=env)
    found = json_out(result)["pythons"]
    assert isinstance(found, list)
    return found


@pytest.fixture
def pyenv_only(tmp_path: Path) -> dict[str, str]:
    """Environment in which uv manages no interpreter, so a version means pyenv's."""
    empty = tmp_path / "no-uv-pythons"
    empty.mkdir()
    return {"UV_PYTHON_INSTALL_DIR": str(empty)}


# --------------------------------------------------------------------------- pyenv


def test_pythons_lists_pyenv_versions_at_their_real_paths_never_shims(
    run_hwb: Run, pyenv_only: dict[str, str]
) -> None:
    expected = {short: pyenv_python(short) for short in CHECKED_VERSIONS}
    env = dict(pyenv_only)
    if PYENV_SHIMS.is_dir():
        # Shims first on PATH, as in a shell where pyenv is set up: the global version's shim
        # answers like a real interpreter, and must still not be listed.
        env["PATH"] = os.pathsep.join([str(PYENV_SHIMS), os.environ.get("PATH", "")])
    found = pythons_json(run_hwb, env)

    by_path = {entry["path"]: entry for entry in found}
    for short, exe in expected.items():
        entry = by_path.get(str(exe))
        assert entry is not None, f"{exe} ({short}) missing from {sorted(by_path)}"
        assert entry["source"] == "pyenv"
        assert entry["version"] == exe.parent.parent.name  # the versions/3.12.1 directory
        assert entry["implementation"] == "cpython"
        assert entry["abi_tag"] == "cp" + short.replace(".", "")
    shims = [entry["path"] for entry in found if "shims" in Path(entry["path"]).parts]
    assert shims == []


@pytest.mark.real
@pytest.mark.parametrize("form", ["full-version", "abi-tag", "path"])
def test_python_option_resolves_every_form_to_pyenv_312(
    form: str, run_hwb: Run, tmp_path: Path, pyenv_only: dict[str, str]
) -> None:
    exe = pyenv_python("3.12")
    prefix = exe.parent.parent
    spec = {"full-version": prefix.name, "abi-tag": "cp312", "path": str(exe)}[form]
    wheel = build_probe(run_hwb, tmp_path, "--python", spec, env=pyenv_only)
    assert wheel["python_path"] == str(exe)
    assert wheel["python"] == prefix.name
    # The build environment was made from that interpreter and the backend really ran in it.
    assert wheel["built_with"]["base_prefix"] == str(prefix)
    assert wheel["built_with"]["version"] == prefix.name


# --------------------------------------------------------------------------- uv-managed


@pytest.fixture(scope="session")
def uv_python_install_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A uv install directory holding one "uv-managed" CPython: a copy of pyenv's 3.12 under the
    name uv gives its own installs (``uv python install`` cannot download here).

    The copy needs no relocation: CPython finds its prefix from where its executable lies (the
    ``lib/python3.12/os.py`` landmark), so the copied binary uses the copied standard library.
    Its RUNPATH still names pyenv's ``lib``, so it loads pyenv's ``libpython3.12.so``, which
    stays where it is. The test suite of the standard library, bytecode caches and the static
    libpython are left out to keep the copy quick (about 75 MB instead of 300).
    """
    require(
        sys.platform == "linux" and platform.machine() == "x86_64",
        "the uv install name below is for x86_64 Linux",
    )
    prefix = pyenv_python("3.12").parent.parent
    install_dir = tmp_path_factory.mktemp("uv-python")
    shutil.copytree(
        prefix,
        install_dir / f"cpython-{prefix.name}-linux-x86_64-gnu",
        symlinks=True,
        ignore=shutil.ignore_patterns("test", "__pycache__", "*.a"),
    )
    return install_dir


def managed_python(install_dir: Path) -> Path:
    (managed,) = install_dir.iterdir()
    (exe,) = managed.glob("bin/python3.12")
    return exe


@pytest.mark.real
def test_the_copied_interpreter_runs_from_its_own_prefix_and_uv_counts_it_as_managed(
    uv_python_install_dir: Path,
) -> None:
    exe = managed_python(uv_python_install_dir)
    prefix = exe.parent.parent
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    where = (
        "import os, sqlite3, ssl, sys; print(sys.prefix); print(os.__file__); print(ssl.__file__)"
    )
    out = subprocess.run(
        [str(exe), "-I", "-c", where], capture_output=True, text=True, env=clean, check=True
    ).stdout.splitlines()
    assert out[0] == str(prefix)
    assert all(line.startswith(str(prefix) + os.sep) for line in out[1:]), out

    require(
        importlib.util.find_spec("uv") is not None, "the uv package is not installed beside hwb"
    )
    uv_list = "uv python list --only-installed --python-preference only-managed".split()
    listed = subprocess.run(
        [sys.executable, "-m", *uv_list],
        capture_output=True,
        text=True,
        check=True,
        env={**clean, "UV_PYTHON_INSTALL_DIR": str(uv_python_install_dir)},
    ).stdout
    assert prefix.name in listed


@pytest.mark.real
def test_pythons_lists_the_uv_managed_interpreter_with_source_uv(
    run_hwb: Run, uv_python_install_dir: Path
) -> None:
    exe = managed_python(uv_python_install_dir)
    pyenv_exe = pyenv_python("3.12")
    found = pythons_json(run_hwb, {"UV_PYTHON_INSTALL_DIR": str(uv_python_install_dir)})
    sources = {entry["path"]: entry["source"] for entry in found}
    assert sources.get(str(exe)) == "uv"
    assert sources.get(str(pyenv_exe)) == "pyenv"  # the original is a separate interpreter
    managed = next(entry for entry in found if entry["path"] == str(exe))
    assert managed["version"] == pyenv_exe.parent.parent.name


@pytest.mark.real
def test_build_for_312_prefers_the_uv_managed_interpreter_over_pyenv(
    run_hwb: Run, tmp_path: Path, uv_python_install_dir: Path
) -> None:
    exe = managed_python(uv_python_install_dir)
    wheel = build_probe(
        run_hwb,
        tmp_path,
        "--python",
        "3.12",
        env={"UV_PYTHON_INSTALL_DIR": str(uv_python_install_dir)},
    )
    assert wheel["python_path"] == str(exe)
    assert wheel["built_with"]["base_prefix"] == str(exe.parent.parent)


@pytest.mark.parametrize(
    ("version", "abi"),
    [("2.7", "cp27mu"), ("3.7", "cp37m"), ("3.8", "cp38"), ("3.9", "cp39"), ("3.12", "cp312")],
)
def test_the_one_probe_gives_the_abi_tag_packaging_gives(version: str, abi: str) -> None:
    """hwb.pythons.PROBE (the host's and the containers' probe) takes the ABI tag from
    packaging.tags where packaging imports (3.9 and newer here), and writes the same rule out
    for older interpreters; both agree with what the interpreter's own wheels are tagged."""
    from hwb import pythons

    path = pyenv_python(version)
    answer = json.loads(
        subprocess.run(
            [path, "-c", pythons.PROBE, pythons.packaging_location()],
            capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]
    )
    assert answer["abi_tag"] == abi
    assert answer["libc"][0] == "glibc"
    info = pythons.info_from_probe(answer, path, "test")
    assert (info.abi_tag, info.short_version) == (abi, version)


def test_a_version_stand_in_reports_no_executable(tmp_path: Path) -> None:
    """A container isolation builds with its image's interpreter; asked for ``3.12`` with none
    on this machine, the version stands in. Its executable is unknown, said as ``null``, not
    as an empty path."""
    from hwb import BuildResult, RepairResult
    from hwb.records import result_json
    from hwb_core.pythons import wanted

    stand_in = wanted("3.12")
    assert stand_in is not None and stand_in.version == "3.12" and stand_in.abi_tag == "cp312"
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    result = BuildResult(
        path=wheel,
        python=stand_in,
        isolation="docker",
        isolation_reason="asked for",
        repair=RepairResult(path=wheel, repaired=False),
        duration_s=0.0,
    )
    record = result_json(result)
    assert record["python_path"] is None and record["python"] == "3.12", record
