"""Every interpreter wheels are shipped for: free-threaded CPython and PyPy, found, named and
built for for real (issue 16).

The free-threaded CPython is a real build of Debian's CPython 3.13 source with
``--disable-gil`` (``tests/pythons/free_threaded.sh``, run once by ``.ci/setup``, kept in
``/var/cache/hwb-ci``); PyPy is Debian's ``pypy3`` package. Finder layouts (a pyenv root, uv's
install directory) are made of links to those real interpreters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, assert_clean_error, json_out, pyenv_python, require

pytestmark = pytest.mark.real

FREE_THREADED = Path(
    os.environ.get("HWB_TEST_FREE_THREADED", "/var/cache/hwb-ci/cpython-3.13t/bin/python3.13t")
)
PYPY = Path(os.environ.get("HWB_TEST_PYPY", "/usr/bin/pypy3"))
GILFREE = DATA / "interpreters" / "gilfree"
FT_IMAGE = "hwb-test/free-threaded:latest"


def free_threaded() -> Path:
    require(
        FREE_THREADED.is_file(),
        f"no free-threaded CPython at {FREE_THREADED}; run tests/pythons/free_threaded.sh",
    )
    return FREE_THREADED


def pypy() -> Path:
    require(PYPY.is_file(), f"no PyPy at {PYPY}; apt-get install pypy3 pypy3-dev")
    return PYPY


@pytest.fixture
def pyenv_root(tmp_path: Path) -> Path:
    """A pyenv root the way ``pyenv install 3.13.0`` and ``pyenv install 3.13t`` leave it: a
    regular 3.13.0 and a free-threaded 3.13.5t, the newer patch release."""
    regular = pyenv_python("3.13")
    root = tmp_path / "pyenv"
    for version, name, target in (
        (regular.parent.parent.name, "python3.13", regular),
        ("3.13.5t", "python3.13t", free_threaded()),
    ):
        bindir = root / "versions" / version / "bin"
        bindir.mkdir(parents=True)
        (bindir / name).symlink_to(target)
    return root


def finder_env(pyenv_root: Path, tmp_path: Path) -> dict[str, str]:
    """Only the fake pyenv root, an empty uv directory and the system's own ``/usr/bin``."""
    uv_dir = tmp_path / "uv-pythons"
    uv_dir.mkdir(exist_ok=True)
    return {
        "PYENV_ROOT": str(pyenv_root),
        "UV_PYTHON_INSTALL_DIR": str(uv_dir),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
    }


def build(
    run_hwb: Any, project: Path, out: Path, *args: str, env: dict[str, str]
) -> dict[str, Any]:
    result = run_hwb("build", str(project), "-o", str(out), "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    wheels = json.loads(result.stdout)["wheels"]
    assert len(wheels) == 1
    return dict(wheels[0])


def import_from_wheel(
    python: Path, wheel: Path, tmp_path: Path, code: str, env: dict[str, str] | None = None
) -> str:
    """Unpack ``wheel`` and run ``code`` with ``python`` and the unpacked tree on its path."""
    target = tmp_path / f"unpacked-{wheel.name}"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    done = subprocess.run(
        [str(python), "-c", code],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(target), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# --------------------------------------------------------------------------- finders


def test_finders_tell_a_free_threaded_build_from_a_regular_one(
    run_hwb: Any, pyenv_root: Path, tmp_path: Path
) -> None:
    env = finder_env(pyenv_root, tmp_path)
    # uv's install directory names free-threaded builds "+freethreaded".
    uv_bin = (
        Path(env["UV_PYTHON_INSTALL_DIR"]) / "cpython-3.13.5+freethreaded-linux-x86_64-gnu" / "bin"
    )
    uv_bin.mkdir(parents=True)
    (uv_bin / "python3.13t").symlink_to(free_threaded())
    listed = json_out(run_hwb("pythons", "--json", env=env))["pythons"]
    by_source = {(p["source"], p["version"][:4]): p for p in listed}
    regular = by_source[("pyenv", "3.13")]
    assert regular["free_threaded"] is False and regular["abi_tag"] == "cp313"
    threaded = [p for p in listed if p["free_threaded"]]
    assert {p["source"] for p in threaded} >= {"uv"}
    assert all(p["abi_tag"] == "cp313t" and p["implementation"] == "cpython" for p in threaded)
    text = run_hwb("pythons", env=env)
    assert text.returncode == 0, text.stderr
    header, *rows = text.stdout.splitlines()
    assert "GIL" in header.split()
    assert any("cp313t" in row and " off " in row for row in rows), text.stdout
    assert any(" cp313 " in row and " on " in row for row in rows), text.stdout


def test_the_system_finder_finds_debians_pypy(run_hwb: Any, tmp_path: Path) -> None:
    pypy()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYENV_ROOT": str(tmp_path / "none"),
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "none"),
    }
    listed = json_out(run_hwb("pythons", "--json", env=env))["pythons"]
    found = [p for p in listed if p["implementation"] == "pypy"]
    assert found, listed
    assert found[0]["abi_tag"] == "pypy39_pp73" and found[0]["source"] == "system"
    assert found[0]["free_threaded"] is False


# --------------------------------------------------------------------------- free-threaded


def test_a_free_threaded_wheel_is_tagged_cp313t_and_imports_with_the_gil_off(
    run_hwb: Any, pyenv_root: Path, tmp_path: Path
) -> None:
    env = finder_env(pyenv_root, tmp_path)
    wheel = build(
        run_hwb, GILFREE, tmp_path / "out", "--python", "3.13t", "--isolation", "venv", env=env
    )
    name = wheel["filename"]
    assert name.startswith("gilfree-1.0-cp313-cp313t-manylinux"), name
    assert wheel["repairer"] == "auditwheel"
    assert wheel["policy"].startswith("manylinux_")
    with zipfile.ZipFile(wheel["path"]) as zf:
        tags = zf.read("gilfree-1.0.dist-info/WHEEL").decode()
    assert "Tag: cp313-cp313t-manylinux" in tags
    said = import_from_wheel(
        free_threaded(),
        Path(wheel["path"]),
        tmp_path,
        "import sys, gilfree; print(sys._is_gil_enabled(), gilfree.square(7))",
        env={"PYTHON_GIL": "0"},
    )
    assert said == "False 49"


def test_plain_313_never_picks_the_newer_free_threaded_build(
    run_hwb: Any, pyenv_root: Path, tmp_path: Path
) -> None:
    env = finder_env(pyenv_root, tmp_path)
    for asked in ("3.13", "cp313"):
        wheel = build(
            run_hwb, GILFREE, tmp_path / asked, "--python", asked, "--isolation", "venv", env=env
        )
        assert "-cp313-cp313-manylinux" in wheel["filename"], wheel["filename"]
        assert wheel["python"].startswith("3.13.") and not wheel["python"].startswith("3.13.5")


def test_asking_for_a_free_threaded_python_that_is_not_there_names_what_was_found(
    run_hwb: Any, tmp_path: Path
) -> None:
    env = {
        "PYENV_ROOT": str(tmp_path / "none"),
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "none"),
        "PATH": "/usr/bin:/bin",
    }
    line = assert_clean_error(
        run_hwb("build", str(GILFREE), "--python", "3.14t", "--isolation", "venv", env=env)
    )
    assert "no Python matching '3.14t' was found" in line
    for bad in ("pypy3.9t", "3t"):
        line = assert_clean_error(run_hwb("build", str(GILFREE), "--python", bad, env=env), 2)
        assert "free-threaded" in line


# --------------------------------------------------------------------------- PyPy


def test_pypy_builds_a_repaired_pp39_wheel_that_imports_under_pypy(
    run_hwb: Any, tmp_path: Path
) -> None:
    pypy()
    env = {"PATH": "/usr/bin:/bin"}
    wheel = build(
        run_hwb, GILFREE, tmp_path / "out", "--python", "pypy3.9", "--isolation", "venv", env=env
    )
    name = wheel["filename"]
    assert name.startswith("gilfree-1.0-pp39-pypy39_pp73-manylinux"), name
    assert wheel["repairer"] == "auditwheel"
    said = import_from_wheel(
        PYPY,
        Path(wheel["path"]),
        tmp_path,
        "import sys, gilfree; print(sys.implementation.name, gilfree.square(7))",
    )
    assert said == "pypy 49"


# --------------------------------------------------------------------------- the matrix


def test_matrix_jobs_for_free_threaded_and_pypy_have_cibuildwheel_style_ids(
    run_hwb: Any, pyenv_root: Path, tmp_path: Path
) -> None:
    pypy()
    env = finder_env(pyenv_root, tmp_path)
    out = tmp_path / "out"
    result = run_hwb(
        "matrix",
        str(GILFREE),
        "--python",
        "3.13,3.13t,pp39",
        "--isolation",
        "venv",
        "--parallel",
        "2",
        "-o",
        str(out),
        "--json",
        env=env,
    )
    jobs = {job["id"]: job for job in json_out(result)["jobs"]}
    assert set(jobs) == {
        "cp313-manylinux_x86_64",
        "cp313t-manylinux_x86_64",
        "pp39-manylinux_x86_64",
    }
    assert all(job["status"] == "ok" for job in jobs.values()), jobs
    assert "-cp313-cp313t-manylinux" in Path(jobs["cp313t-manylinux_x86_64"]["wheel"]).name
    assert "-cp313-cp313-manylinux" in Path(jobs["cp313-manylinux_x86_64"]["wheel"]).name
    assert "-pp39-pypy39_pp73-manylinux" in Path(jobs["pp39-manylinux_x86_64"]["wheel"]).name
    assert (out / ".hwb-logs" / "cp313t-manylinux_x86_64.log").is_file()


# --------------------------------------------------------------------------- in a container


@pytest.mark.docker
def test_docker_builds_a_free_threaded_wheel_in_an_image_that_holds_the_interpreter(
    run_hwb: Any, tmp_path: Path
) -> None:
    from tests.docker.support import engine

    client = engine()
    try:
        client.images.get(FT_IMAGE)
    except Exception:
        require(
            False, f"test image {FT_IMAGE} is missing; run tests/pythons/free_threaded.sh --image"
        )
    out = tmp_path / "out"
    # --python names the host's free-threaded interpreter: the container takes its own build
    # of the same ABI, /opt/python/cp313-cp313t.
    wheel = build(
        run_hwb,
        GILFREE,
        out,
        "--isolation",
        "docker",
        "--image",
        FT_IMAGE,
        "--python",
        str(free_threaded()),
        env={},
    )
    name = wheel["filename"]
    assert name.startswith("gilfree-1.0-cp313-cp313t-manylinux"), name
    assert wheel["isolation"] == "docker"
    code = (
        "import sys, zipfile; zipfile.ZipFile('/wheels/" + name + "').extractall('/tmp/w'); "
        "sys.path.insert(0, '/tmp/w'); import gilfree; "
        "print(sys._is_gil_enabled(), gilfree.square(7))"
    )
    said = client.containers.run(
        FT_IMAGE,
        ["/opt/python/cp313-cp313t/bin/python", "-c", code],
        environment={"PYTHON_GIL": "0"},
        volumes={str(out): {"bind": "/wheels", "mode": "ro"}},
        network_disabled=True,
        remove=True,
        labels={"hwb-test": "free-threaded"},
    )
    assert said.decode().strip() == "False 49"


# --------------------------------------------------------------------------- targets not built here


@pytest.mark.parametrize(
    ("platform", "name"),
    [
        ("pyodide", "Pyodide"),
        ("pyodide_2024_0_wasm32", "Pyodide"),
        ("emscripten", "Pyodide"),
        ("ios-arm64", "iOS"),
        ("ios_13_0_arm64_iphoneos", "iOS"),
        ("android", "Android"),
    ],
)
def test_build_refuses_a_platform_whose_toolchain_comes_from_outside(
    run_hwb: Any, platform: str, name: str
) -> None:
    line = assert_clean_error(run_hwb("build", str(GILFREE), "--platform", platform), 2)
    assert line.startswith(f"error: {name} wheels cannot be built here"), line


def test_matrix_refuses_such_a_platform_in_one_line(run_hwb: Any, tmp_path: Path) -> None:
    line = assert_clean_error(
        run_hwb("matrix", str(GILFREE), "--platform", "linux,ios", "-o", str(tmp_path / "out")), 2
    )
    assert line.startswith("error: iOS wheels cannot be built here"), line
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- the words


@pytest.mark.parametrize(
    ("text", "implementation", "version", "threaded"),
    [
        ("3.13t", "cpython", (3, 13), True),
        ("cp313t", "cpython", (3, 13), True),
        ("3.14t", "cpython", (3, 14), True),
        ("python3.13t", "cpython", (3, 13), True),
        ("3.13", None, (3, 13), False),
        ("cp313", "cpython", (3, 13), False),
        ("pypy3.9", "pypy", (3, 9), False),
        ("pp39", "pypy", (3, 9), False),
    ],
)
def test_python_specs_name_free_threaded_builds_with_a_t(
    text: str, implementation: str | None, version: tuple[int, ...], threaded: bool
) -> None:
    from hwb_core.interfaces import PythonSpec

    spec = PythonSpec.parse(text)
    assert (spec.implementation, spec.version, spec.free_threaded) == (
        implementation,
        version,
        threaded,
    )


def test_a_spec_matches_free_threaded_interpreters_only_when_it_says_t() -> None:
    from hwb.pythons import best_match
    from hwb_core.interfaces import PythonInfo, PythonSpec

    regular = PythonInfo("/a/python3.13", "3.13.0", "cpython", "cp313", "pyenv")
    threaded = PythonInfo(
        "/b/python3.13t", "3.13.5", "cpython", "cp313t", "pyenv", free_threaded=True
    )
    assert best_match(PythonSpec.parse("3.13"), [regular, threaded]) is regular
    assert best_match(PythonSpec.parse("3"), [threaded]) is None
    assert best_match(PythonSpec.parse("3.13t"), [regular, threaded]) is threaded
    assert best_match(PythonSpec.parse("3.13t"), [regular]) is None
    assert threaded.spec == "3.13t" and regular.spec == "3.13"


def test_job_ids_are_written_like_cibuildwheel_identifiers() -> None:
    from hwb_core.interfaces import PythonInfo
    from hwb_plugins.matrix.jobs import Job

    pp = PythonInfo("/usr/bin/pypy3.9", "3.9.16", "pypy", "pypy39_pp73", "system")
    assert Job("pp39", "linux", "x86_64", interpreter=pp).id == "pp39-manylinux_x86_64"
    assert Job("3.13t", "linux", "aarch64").id == "cp313t-manylinux_aarch64"
    assert Job("3.12", "macos", "universal2").id == "cp312-macosx_universal2"
    assert Job("3.12", "windows", "x86").id == "cp312-win32"
    assert Job("3.12", "windows", "x86_64").id == "cp312-win_amd64"
    assert Job("3.12", "linux", "x86_64", family="musllinux").id == "cp312-musllinux_x86_64"
    assert Job("3.11,3.12", "any", "any").id == "py3-none-any"


def test_a_matrix_exclude_of_313_leaves_the_free_threaded_job_alone() -> None:
    from hwb_core.interfaces import PythonInfo
    from hwb_plugins.matrix.settings import parse_excludes

    (plain,) = parse_excludes([{"python": "3.13"}], "test")
    (threaded,) = parse_excludes([{"python": "cp313t"}], "test")
    ft = PythonInfo("/b/python3.13t", "3.13.5", "cpython", "cp313t", "pyenv", free_threaded=True)
    for info in (ft, None):
        assert not plain.matches("3.13t", info, "linux", "x86_64")
        assert threaded.matches("3.13t", info, "linux", "x86_64")
    assert plain.matches("3.13", None, "linux", "x86_64")


def test_a_spec_made_from_its_text_alone_is_parsed() -> None:
    """``PythonSpec("3.12")`` once gave an empty version silently: the text alone is parsed as
    ``PythonSpec.parse`` parses it, and the running interpreter's spec names it by path."""
    import sys

    from hwb_core.errors import UsageError
    from hwb_core.interfaces import PythonSpec

    assert PythonSpec("3.12") == PythonSpec.parse("3.12")
    assert PythonSpec("cp313t").version == (3, 13) and PythonSpec("cp313t").free_threaded
    assert PythonSpec("/usr/bin/python3").path == "/usr/bin/python3"
    with pytest.raises(UsageError, match="not a version"):
        PythonSpec("latest")
    running = PythonSpec.running()
    assert (running.raw, running.path, running.version) == ("", sys.executable, ())


def test_paths_and_the_running_interpreter_are_the_path_finders(
    run_hwb: Any, tmp_path: Path
) -> None:
    """Plugin ``path`` resolves ``--python PATH`` and, without --python, the interpreter running
    hwb; blocked, either stops in one line, and a version is still found by the others."""
    import sys

    from tests.plugins.backends import tiny_project

    project = tiny_project(tmp_path / "proj")
    out = tmp_path / "out"
    args = ("build", str(project), "--isolation", "venv", "-o", str(out), "--json")
    result = run_hwb(*args, "--python", sys.executable)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["wheels"][0]["python_source"] == "path"
    result = run_hwb(*args)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["wheels"][0]["python_source"] == "current"
    line = assert_clean_error(run_hwb("-p", "no:path", *args), 2)
    assert "no finder resolves the interpreter running hwb" in line
    line = assert_clean_error(run_hwb("-p", "no:path", *args, "--python", sys.executable), 2)
    assert f"no finder resolves --python {sys.executable}" in line
    short = "{}.{}".format(*sys.version_info[:2])
    result = run_hwb("-p", "no:path", *args, "--python", short)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["wheels"][0]["python_source"] != "path"
