"""Real builds: sample projects on five PEP 517 backends from PyPI and a C extension, built by
``hwb build`` and checked against ``python -m build``, for several pyenv interpreters, from an
sdist and without isolation. Nothing is mocked: backends are installed from the index,
compilers compile, interpreters run.

The sample projects live in ``tests/data/build_real/``; every test builds a private copy, since
setuptools writes ``build/`` and ``*.egg-info`` into the tree it builds.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import parse_wheel_filename

from tests.conftest import DATA, assert_clean_error, json_out, pyenv_python, require, wheel_members

Run = Callable[..., subprocess.CompletedProcess[str]]

SAMPLES = DATA / "build_real"
BUILD_FAILED = 1
WHEEL_KEYS = {"path", "filename", "python", "isolation", "repaired"}


# --------------------------------------------------------------------------- helpers


def copy_sample(name: str, dest: Path) -> Path:
    shutil.copytree(SAMPLES / name, dest)
    return dest


def uv_command() -> list[str]:
    """uv as installed beside hwb (a dependency of hwb, so present wherever hwb is)."""
    require(
        importlib.util.find_spec("uv") is not None, "the uv package is not installed beside hwb"
    )
    return [sys.executable, "-m", "uv"]


def run_checked(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        cmd, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, **kwargs
    )
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result


def pypa_build(*args: str) -> None:
    """``python -m build`` with the interpreter running the tests (build is a dependency of
    hwb). ``--installer uv`` only makes its isolated environments quicker to fill: the backend
    still runs under pypa/build's own frontend, and both frontends get the same backend
    release from the index, so their wheels can be compared byte for byte."""
    uv_command()
    run_checked([sys.executable, "-m", "build", "--installer", "uv", *args])


def only_wheel(directory: Path) -> Path:
    wheels = sorted(directory.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def hwb_build(
    run_hwb: Run, src: Path, outdir: Path, *options: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``hwb build SRC -o OUTDIR OPTIONS...`` through the real CLI."""
    return run_hwb("build", str(src), "-o", str(outdir), *options, env=env)


def hwb_wheel(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one wheel a successful ``hwb build --json`` reports."""
    wheels = json_out(result)["wheels"]
    assert len(wheels) == 1, wheels
    return dict(wheels[0])


def read_member(wheel: Path, suffix: str) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(suffix)]
        return zf.read(name)


def temp_dir_of(env: dict[str, str]) -> Path:
    return Path(env["TMPDIR"])


def leftovers(tmpdir: Path, outdir: Path) -> list[str]:
    """What a build must not leave behind: hwb's temporary directories (``hwb-build-*``,
    ``hwb-sdist-*``) in TMPDIR, and half-written or probe files in the output directory."""
    found = [str(p) for p in tmpdir.iterdir() if p.name.startswith("hwb-")]
    if outdir.exists():
        found += [
            str(p)
            for p in outdir.iterdir()
            if p.name.endswith(".part") or p.name.startswith(".hwb-")
        ]
    return found


@pytest.fixture
def pyenv_only(tmp_path: Path) -> dict[str, str]:
    """Environment in which uv manages no interpreter, so ``--python X.Y`` means pyenv's."""
    empty = tmp_path / "no-uv-pythons"
    empty.mkdir()
    return {"UV_PYTHON_INSTALL_DIR": str(empty)}


# --------------------------------------------------------------------------- hwb vs pypa/build

BACKEND_SAMPLES = [
    pytest.param("hatchling", id="hatchling"),
    pytest.param("setuptools", id="setuptools"),
    pytest.param("flit", id="flit-core"),
    pytest.param("pdm", id="pdm-backend"),
    pytest.param("poetry", id="poetry-core"),
    pytest.param("setuptools_ext", id="setuptools-c-extension"),
]


@pytest.mark.real
@pytest.mark.parametrize("sample", BACKEND_SAMPLES)
def test_hwb_wheel_matches_the_wheel_python_m_build_makes(
    sample: str, run_hwb: Run, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    copy_sample(sample, src)
    pypa_build("--wheel", "--outdir", str(tmp_path / "pypa"), str(src))
    theirs = only_wheel(tmp_path / "pypa")

    # hwb builds a fresh copy at the same path: the compiler writes the source directory into
    # the extension's debug information, so only the same path gives the same bytes.
    shutil.rmtree(src)
    copy_sample(sample, src)
    result = hwb_build(run_hwb, src, tmp_path / "hwb", "--isolation", "venv", "--json")
    built = hwb_wheel(result)
    ours = Path(built["path"])
    assert ours.parent == tmp_path / "hwb"

    our_name, our_version, _, our_tags = parse_wheel_filename(ours.name)
    their_name, their_version, _, their_tags = parse_wheel_filename(theirs.name)
    assert (our_name, our_version) == (their_name, their_version)
    assert {(t.interpreter, t.abi) for t in our_tags} == {
        (t.interpreter, t.abi) for t in their_tags
    }

    ours_members, theirs_members = wheel_members(ours), wheel_members(theirs)
    assert sorted(ours_members) == sorted(theirs_members)
    (metadata,) = [n for n in ours_members if n.endswith(".dist-info/METADATA")]
    assert ours_members[metadata] == theirs_members[metadata]
    if not built["repaired"]:
        # Unrepaired, every member is byte for byte what pypa/build gives (RECORD included:
        # same contents, same hashes). A repairer may legitimately retag the platform and
        # rewrite WHEEL, RECORD and the extension's RUNPATH; names and METADATA still agree.
        assert ours.name == theirs.name
        assert [n for n in ours_members if ours_members[n] != theirs_members[n]] == []


# --------------------------------------------------------------------------- interpreters


def extension_suffix(python: Path) -> str:
    return run_checked(
        [str(python), "-I", "-c", "import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])"]
    ).stdout.strip()


@pytest.mark.real
@pytest.mark.parametrize("short", ["3.9", "3.10", "3.11", "3.13"])
def test_c_extension_is_compiled_and_tagged_for_the_chosen_pyenv_python(
    short: str, run_hwb: Run, tmp_path: Path, pyenv_only: dict[str, str]
) -> None:
    python = pyenv_python(short)
    src = copy_sample("setuptools_ext", tmp_path / "src")
    options = ("--isolation", "venv", "--python", short, "--json")
    result = hwb_build(run_hwb, src, tmp_path / "out", *options, env=pyenv_only)
    built = hwb_wheel(result)
    assert built["python_path"] == str(python)
    assert built["python"].startswith(short + ".")

    cp_tag = "cp" + short.replace(".", "")
    _, _, _, tags = parse_wheel_filename(built["filename"])
    assert {(t.interpreter, t.abi) for t in tags} == {(cp_tag, cp_tag)}
    members = wheel_members(Path(built["path"]))
    assert f"hwbt_ext/_speedups{extension_suffix(python)}" in members


@pytest.mark.real
def test_c_extension_built_for_312_imports_and_runs_under_312(
    run_hwb: Run, tmp_path: Path, pyenv_only: dict[str, str]
) -> None:
    python = pyenv_python("3.12")
    src = copy_sample("setuptools_ext", tmp_path / "src")
    options = ("--isolation", "venv", "--python", "3.12", "--json")
    result = hwb_build(run_hwb, src, tmp_path / "out", *options, env=pyenv_only)
    wheel = Path(hwb_wheel(result)["path"])
    assert "-cp312-cp312-" in wheel.name

    # Installed the way a user would: a fresh 3.12 venv, an installer that checks the tags.
    uv = uv_command()
    venv = tmp_path / "venv312"
    run_checked([*uv, "venv", "--quiet", "--python", str(python), str(venv)])
    venv_python = venv / "bin" / "python"
    install = ["pip", "install", "--quiet", "--no-index", "--no-deps", "--python", str(venv_python)]
    run_checked([*uv, *install, str(wheel)])
    use = (
        "import platform, hwbt_ext as e;"
        " print(e.triangle(100), e.abi_version(), platform.python_version())"
    )
    out = run_checked([str(venv_python), "-I", "-c", use], cwd=tmp_path)
    # 5050 comes from the compiled loop; "3.12" from the headers it was compiled against.
    assert out.stdout.split() == ["5050", "3.12", python.parent.parent.name]


# --------------------------------------------------------------------------- sources and output


@pytest.mark.real
def test_an_sdist_builds_into_the_given_outdir(
    run_hwb: Run, hwb_env: dict[str, str], tmp_path: Path
) -> None:
    src = copy_sample("hatchling", tmp_path / "src")
    pypa_build("--sdist", "--outdir", str(tmp_path / "sdists"), str(src))
    (sdist,) = sorted((tmp_path / "sdists").glob("*.tar.gz"))
    shutil.rmtree(src)  # the wheel can only come from the archive

    outdir = tmp_path / "wheels"
    built = hwb_wheel(hwb_build(run_hwb, sdist, outdir, "--isolation", "venv", "--json"))
    wheel = outdir / "hwbt_hatch-1.2.0-py3-none-any.whl"
    assert built["path"] == str(wheel)
    assert b"\nName: hwbt-hatch\n" in read_member(wheel, ".dist-info/METADATA")
    assert "hwbt_hatch/cli.py" in wheel_members(wheel)
    assert [p.name for p in (tmp_path / "sdists").iterdir()] == [sdist.name]
    assert leftovers(temp_dir_of(hwb_env), outdir) == []


@pytest.mark.real
def test_json_output_is_one_object_describing_the_wheel(run_hwb: Run, tmp_path: Path) -> None:
    src = copy_sample("flit", tmp_path / "src")
    outdir = tmp_path / "out"
    result = hwb_build(run_hwb, src, outdir, "--isolation", "venv", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # raises if stdout holds anything besides one object
    assert isinstance(document, dict)
    assert len(document["wheels"]) == 1
    wheel = document["wheels"][0]
    assert WHEEL_KEYS <= set(wheel)
    assert wheel["filename"] == "hwbt_flit-2.0.1-py3-none-any.whl"
    assert wheel["path"] == str(outdir / wheel["filename"])
    assert Path(wheel["path"]).is_file()
    assert wheel["python"] == platform.python_version()  # the default: hwb's own interpreter
    assert wheel["isolation"] == "venv"
    assert wheel["repaired"] is False  # a pure wheel has nothing to repair


@pytest.mark.real
def test_a_missing_outdir_is_created_and_no_temporary_files_remain(
    run_hwb: Run, hwb_env: dict[str, str], tmp_path: Path
) -> None:
    src = copy_sample("pdm", tmp_path / "src")
    outdir = tmp_path / "not" / "there" / "yet"
    result = hwb_build(run_hwb, src, outdir, "--isolation", "venv")
    assert result.returncode == 0, result.stderr
    wheel = "hwbt_pdm-0.9.0-py3-none-any.whl"  # and its provenance record
    assert sorted(p.name for p in outdir.iterdir()) == [wheel, wheel + ".provenance.json"]
    assert leftovers(temp_dir_of(hwb_env), outdir) == []


@pytest.mark.real
def test_a_failed_build_leaves_no_wheel_and_no_temporary_files(
    run_hwb: Run, hwb_env: dict[str, str], tmp_path: Path
) -> None:
    # setup.py raises once the environment exists and setuptools is installed in it: the
    # environment, the work directory and the output directory all have to be cleaned up.
    src = copy_sample("failing", tmp_path / "src")
    outdir = tmp_path / "out"
    result = hwb_build(run_hwb, src, outdir, "--isolation", "venv")
    assert result.returncode == BUILD_FAILED, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert "setuptools.build_meta" in errors[0]
    # The backend's own traceback is shown indented by "  | "; hwb adds none of its own.
    assert "  | RuntimeError: hwbt-failing: this build fails on purpose" in result.stderr
    assert not [line for line in result.stderr.splitlines() if line.startswith("Traceback")]
    assert not list(outdir.rglob("*.whl"))
    assert leftovers(temp_dir_of(hwb_env), outdir) == []


# --------------------------------------------------------------------------- --isolation none


@pytest.fixture(scope="session")
def setuptools_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with setuptools installed (and no hatchling)."""
    venv = tmp_path_factory.mktemp("none-isolation") / "venv"
    uv = uv_command()
    run_checked([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    install = ["pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
    run_checked([*uv, *install, "setuptools>=61"])
    return venv


@pytest.mark.real
def test_isolation_none_builds_with_the_given_interpreter_and_its_packages(
    run_hwb: Run, tmp_path: Path, setuptools_venv: Path
) -> None:
    python = setuptools_venv / "bin" / "python"
    src = copy_sample("probe", tmp_path / "src")
    options = ("--isolation", "none", "--python", str(python), "--json")
    result = hwb_build(run_hwb, src, tmp_path / "out", *options)
    built = hwb_wheel(result)
    assert built["isolation"] == "none"
    assert built["python_path"] == str(python)
    assert "not isolated" in result.stderr
    # The backend ran in that very venv, not in the base interpreter its bin/python links to.
    built_with = json.loads(read_member(Path(built["path"]), "hwbt_probe/built_with.json"))
    assert built_with["prefix"] == str(setuptools_venv)


@pytest.mark.real
def test_isolation_none_names_a_build_requirement_the_interpreter_lacks(
    run_hwb: Run, hwb_env: dict[str, str], tmp_path: Path, setuptools_venv: Path
) -> None:
    src = copy_sample("hatchling", tmp_path / "src")
    outdir = tmp_path / "out"
    python = setuptools_venv / "bin" / "python"
    result = hwb_build(run_hwb, src, outdir, "--isolation", "none", "--python", str(python))
    error = assert_clean_error(result, BUILD_FAILED)
    assert "hatchling (not installed)" in error
    assert str(python) in error  # the venv's interpreter, not the base it links to
    assert not list(tmp_path.rglob("*.whl"))
    assert leftovers(temp_dir_of(hwb_env), outdir) == []
