"""Bad input through the real CLI: every case exits non-zero with exactly one ``error:`` line, no
traceback, and no wheel anywhere. Exit code 2 is the user's input or configuration, 1 a build
that failed (see ``hwb_core/errors.py``)."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import assert_clean_error, pyenv_python, require, write_project
from tests.plugins.backends import tiny_project

Run = Callable[..., subprocess.CompletedProcess[str]]

USAGE, BUILD_FAILED = 2, 1


def assert_no_wheel(*roots: Path) -> None:
    wheels = [path for root in roots for path in root.rglob("*.whl")]
    assert not wheels, wheels


def fails_cleanly(result: subprocess.CompletedProcess[str], code: int, *roots: Path) -> str:
    error = assert_clean_error(result, code)
    assert_no_wheel(*roots)
    return error


# --------------------------------------------------------------------------- the source


def test_missing_source_is_a_usage_error(run_hwb: Run, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-project"
    error = fails_cleanly(run_hwb("build", str(missing)), USAGE, tmp_path)
    assert str(missing) in error and "does not exist" in error


def test_a_directory_without_pyproject_or_setup_py_is_a_usage_error(
    run_hwb: Run, tmp_path: Path
) -> None:
    project = write_project(
        tmp_path / "proj", {"README.md": "not a project\n", "pkg/__init__.py": ""}
    )
    error = fails_cleanly(run_hwb("build", str(project)), USAGE, tmp_path)
    assert "neither pyproject.toml nor setup.py" in error


def test_a_file_that_is_not_an_sdist_is_a_usage_error(run_hwb: Run, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    error = fails_cleanly(run_hwb("build", str(notes)), USAGE, tmp_path)
    assert "neither a directory nor an sdist" in error


def test_a_truncated_sdist_is_a_usage_error(run_hwb: Run, tmp_path: Path) -> None:
    sdist = tmp_path / "cut-1.0.tar.gz"
    sdist.write_bytes(b"\x1f\x8b\x08\x00 this is not really gzip")
    error = fails_cleanly(run_hwb("build", str(sdist)), USAGE, tmp_path)
    assert "cannot read" in error and "cut-1.0.tar.gz" in error


def test_a_file_named_like_an_sdist_that_is_none_is_one_line(run_hwb: Run, tmp_path: Path) -> None:
    sdist = tmp_path / "plain-1.0.tar.gz"
    sdist.write_text("not an archive at all\n")
    result = run_hwb("build", str(sdist))
    error = fails_cleanly(result, USAGE, tmp_path)
    assert "not a tar archive (gzip, bzip2, xz or plain) nor a zip file" in error
    assert [line for line in result.stderr.splitlines() if not line.startswith("[")] == [error]


def test_a_cache_directory_in_the_way_is_a_one_line_error(run_hwb: Run, tmp_path: Path) -> None:
    """A cache directory that cannot be made (a file where ``envs`` should be) names the path;
    never an internal error."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "b"\nbackend-path = ["."]\n'
        '[project]\nname = "p"\nversion = "1"\n'
    )
    (project / "b.py").write_text("def build_wheel(d, c=None, m=None):\n    raise SystemExit(3)\n")
    cache = tmp_path / "cache"
    (cache / "logs").mkdir(parents=True)
    (cache / "envs").write_text("in the way\n")
    result = run_hwb("build", str(project), "--isolation", "venv", "--cache-envs",
                     env={"HWB_CACHE_DIR": str(cache)})
    error = fails_cleanly(result, 1, tmp_path)
    assert f"cannot keep cached environments in {cache / 'envs'}" in error
    assert "internal error" not in error


# --------------------------------------------------------------------------- configuration


def test_invalid_toml_names_file_line_and_column(run_hwb: Run, tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "proj",
        {
            "pyproject.toml": """
            [project]
            name = "broken"
            version = "1.0
            """,
        },
    )
    error = fails_cleanly(run_hwb("build", str(project)), USAGE, tmp_path)
    assert f"invalid TOML in {project / 'pyproject.toml'} at line 3, column" in error


def test_a_duplicate_toml_key_is_invalid_toml_not_a_crash(run_hwb: Run, tmp_path: Path) -> None:
    project = tiny_project(
        tmp_path / "proj", pyproject_extra='[tool.hwb]\npython = "3.12"\npython = "3.11"\n'
    )
    error = fails_cleanly(run_hwb("build", str(project)), USAGE, tmp_path)
    assert f"invalid TOML in {project / 'pyproject.toml'} at line 12, column" in error
    assert "Cannot overwrite a value" in error


def test_an_unknown_tool_hwb_key_names_it_and_the_closest_valid_key(
    run_hwb: Run, tmp_path: Path
) -> None:
    project = tiny_project(
        tmp_path / "proj", pyproject_extra="[tool.hwb.isolation.venv]\nuse_uv = false\n"
    )
    error = fails_cleanly(run_hwb("build", str(project)), USAGE, tmp_path)
    assert "unknown key 'isolation.venv.use_uv'" in error
    assert "did you mean 'isolation.venv.use-uv'?" in error
    assert str(project / "pyproject.toml") in error


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("[tool.hwb]\npython = 3.12\n", "python in [tool.hwb]"),
        ("[tool.hwb.isolation.venv]\nuse-uv = 1\n", "isolation.venv.use-uv in [tool.hwb]"),
        ('[tool.hwb]\nconfig-settings = ["a=b"]\n', "config-settings in [tool.hwb]"),
    ],
    ids=["float-for-string", "int-for-bool", "list-for-table"],
)
def test_a_value_of_the_wrong_type_names_the_key(
    run_hwb: Run, tmp_path: Path, setting: str, expected: str
) -> None:
    project = tiny_project(tmp_path / "proj", pyproject_extra=setting)
    error = fails_cleanly(run_hwb("build", str(project)), USAGE, tmp_path)
    assert expected in error and " must be " in error


@pytest.mark.parametrize(
    ("setting", "hint"),
    [
        ('use-uv = "yes"', "write true or false without quotes: use-uv = true"),
        ('use-uv = "True"', "write true or false without quotes: use-uv = true"),
        ('use-uv = "off"', "write true or false without quotes: use-uv = false"),
        ('cache-max-age = "7"', "write the number without quotes: cache-max-age = 7"),
        ('cache-max-age = "a week"', "Days"),
    ],
)
def test_the_hint_for_a_quoted_value_is_valid_toml(
    run_hwb: Run, tmp_path: Path, setting: str, hint: str
) -> None:
    project = tiny_project(tmp_path / "proj", pyproject_extra=f"[tool.hwb.isolation.venv]\n{setting}\n")
    error = fails_cleanly(run_hwb("build", str(project)), USAGE, tmp_path)
    assert hint in error, error
    if "without quotes" in hint:  # what it suggests parses, as TOML, to the right type
        import tomllib

        tomllib.loads(error.rsplit("without quotes: ", 1)[1].replace("-", "_"))


def test_a_bad_environment_value_names_the_variable(run_hwb: Run, tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "proj")
    result = run_hwb("build", str(project), env={"HWB_ISOLATION_VENV_USE_UV": "perhaps"})
    error = fails_cleanly(result, USAGE, tmp_path)
    assert "isolation.venv.use-uv in HWB_ISOLATION_VENV_USE_UV must be true or false" in error


# --------------------------------------------------------------------------- options


def test_an_unknown_isolation_lists_the_available_ones(run_hwb: Run, tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "proj")
    error = fails_cleanly(run_hwb("build", str(project), "--isolation", "chroot"), USAGE, tmp_path)
    assert "unknown isolation 'chroot'" in error
    assert "choose one of: auto, docker, none, podman, venv" in error


def test_an_unknown_python_lists_the_versions_found(run_hwb: Run, tmp_path: Path) -> None:
    pyenv_python("3.12")
    pyenv_python("3.13")
    project = tiny_project(tmp_path / "proj")
    error = fails_cleanly(run_hwb("build", str(project), "--python", "3.99"), USAGE, tmp_path)
    assert "no Python matching '3.99' was found" in error
    found = error.split("(found: ")[1].split(")")[0].split(", ")
    assert {"3.12", "3.13"} <= set(found)
    assert "uv python install 3.99" in error


def test_a_python_path_that_does_not_exist_is_a_usage_error(run_hwb: Run, tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "proj")
    missing = tmp_path / "bin" / "python9"
    error = fails_cleanly(run_hwb("build", str(project), "--python", str(missing)), USAGE, tmp_path)
    assert str(missing) in error and "does not exist" in error


def test_a_python_spec_that_is_no_version_is_a_usage_error(run_hwb: Run, tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "proj")
    error = fails_cleanly(run_hwb("build", str(project), "--python", "latest"), USAGE, tmp_path)
    assert "'latest' is not a version, tag or path" in error


def test_plugin_flag_without_no_prefix_is_a_usage_error(run_hwb: Run, tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "proj")
    error = fails_cleanly(run_hwb("-p", "venv", "build", str(project)), USAGE, tmp_path)
    assert "-p venv: expected no:NAME" in error


@pytest.mark.parametrize("setting", ["=value", "="])
def test_a_config_setting_without_a_key_is_a_usage_error(
    run_hwb: Run, tmp_path: Path, setting: str
) -> None:
    project = tiny_project(tmp_path / "proj")
    error = fails_cleanly(run_hwb("build", str(project), "-C", setting), USAGE, tmp_path)
    assert f"-C {setting!r}: expected KEY=VALUE" in error


def test_no_isolation_contradicting_isolation_is_a_usage_error(
    run_hwb: Run, tmp_path: Path
) -> None:
    project = tiny_project(tmp_path / "proj")
    result = run_hwb("build", str(project), "--no-isolation", "--isolation", "venv")
    error = fails_cleanly(result, USAGE, tmp_path)
    assert "--no-isolation contradicts --isolation venv" in error


# --------------------------------------------------------------------------- the output directory


def test_an_output_directory_that_cannot_be_created_is_a_usage_error(
    run_hwb: Run, tmp_path: Path
) -> None:
    # Root may write anywhere, but nobody can make a directory below a regular file.
    blocker = tmp_path / "somefile"
    blocker.write_text("in the way\n")
    project = tiny_project(tmp_path / "proj")
    error = fails_cleanly(
        run_hwb("build", str(project), "-o", str(blocker / "sub")), USAGE, tmp_path
    )
    assert f"output directory {blocker / 'sub'} cannot be written" in error
    assert blocker.read_text() == "in the way\n"


def test_an_output_directory_that_is_a_file_is_a_usage_error(run_hwb: Run, tmp_path: Path) -> None:
    target = tmp_path / "out.whl-dir"
    target.write_text("a file, not a directory\n")
    project = tiny_project(tmp_path / "proj")
    error = fails_cleanly(run_hwb("build", str(project), "-o", str(target)), USAGE, tmp_path)
    assert "cannot be written" in error


# --------------------------------------------------------------------------- the build


def test_a_backend_that_raises_fails_the_build_and_shows_its_output(
    run_hwb: Run, tmp_path: Path
) -> None:
    project = write_project(
        tmp_path / "proj",
        {
            "pyproject.toml": """
            [build-system]
            requires = []
            build-backend = "exploding_backend"
            backend-path = ["."]

            [project]
            name = "explodes"
            version = "1.0"
            """,
            "exploding_backend.py": """
            def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
                raise RuntimeError("the backend gave up on purpose")
            """,
        },
    )
    result = run_hwb("build", str(project), "--isolation", "venv")
    assert result.returncode == BUILD_FAILED, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith(
        "error: the build backend 'exploding_backend' failed in build_wheel; the output above "
        "(or -v) shows why (whole log: "
    )
    # The tail of the backend's own output (its traceback, from the hook subprocess) is shown,
    # set off by "  | "; hwb itself prints no traceback.
    backend_tail = [line for line in result.stderr.splitlines() if line.startswith("  | ")]
    assert backend_tail[-1] == "  | RuntimeError: the backend gave up on purpose"
    assert not [line for line in result.stderr.splitlines() if line.startswith("Traceback")]
    assert_no_wheel(tmp_path)


def test_a_build_backend_that_does_not_exist_fails_the_build(run_hwb: Run, tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "proj",
        {
            "pyproject.toml": """
            [build-system]
            requires = []
            build-backend = "no_such_backend_xyz.build"

            [project]
            name = "typo"
            version = "1.0"
            """,
        },
    )
    error = fails_cleanly(
        run_hwb("build", str(project), "--isolation", "venv"), BUILD_FAILED, tmp_path
    )
    assert "build-backend 'no_such_backend_xyz.build' could not be imported" in error
    assert "No module named 'no_such_backend_xyz'" in error


@pytest.mark.real
def test_a_build_requirement_no_index_has_fails_the_build(run_hwb: Run, tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "proj",
        {
            "pyproject.toml": """
            [build-system]
            requires = ["hwb-no-such-package-xyz==1.0"]
            build-backend = "hwb_no_such_package_xyz.build"

            [project]
            name = "needs-nothing-real"
            version = "1.0"
            """,
        },
    )
    result = run_hwb("build", str(project), "--isolation", "venv")
    error = fails_cleanly(result, BUILD_FAILED, tmp_path)
    assert "could not install build requirements: hwb-no-such-package-xyz==1.0" in error
    assert "hwb-no-such-package-xyz" in result.stderr.split(error)[0]  # the installer's tail


def test_a_missing_requirement_without_isolation_is_named(run_hwb: Run, tmp_path: Path) -> None:
    project = tiny_project(tmp_path / "proj")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("requires = []", 'requires = ["hwb-no-such-package-xyz>=1"]')
    )
    error = fails_cleanly(run_hwb("build", str(project), "--no-isolation"), BUILD_FAILED, tmp_path)
    assert "hwb-no-such-package-xyz>=1 (not installed)" in error


# --------------------------------------------------------------------------- a full disk


@pytest.fixture
def full_tmpdir(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs with about 100 kB left (root only: it is mounted)."""
    full = tmp_path / "full"
    full.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(full)], capture_output=True
    ).returncode == 0
    require(mounted, "mounting a tmpfs needs root")
    try:
        (full / "filler").write_bytes(b"\0" * 900_000)
        yield full
    finally:
        subprocess.run(["umount", str(full)], check=True)


@pytest.mark.parametrize("source", ["directory", "sdist"])
def test_a_full_temporary_directory_is_named_with_the_fix(
    run_hwb: Run, tmp_path: Path, full_tmpdir: Path, source: str
) -> None:
    """Copying the source printed copytree's list of every file that failed; extracting an
    sdist called it an unreadable sdist (exit 2)."""
    project = tiny_project(tmp_path / "p", files={"data.bin": "x" * 300_000})
    target = project
    if source == "sdist":
        target = tmp_path / "tiny-1.0.tar.gz"
        with tarfile.open(target, "w:gz") as archive:
            archive.add(project, arcname="tiny-1.0")
    result = run_hwb(
        "build", str(target), "--isolation", "venv", "-o", str(tmp_path / "out"),
        env={"TMPDIR": str(full_tmpdir)},
    )
    error = fails_cleanly(result, BUILD_FAILED, tmp_path)
    assert error == (
        f"error: no space left in the temporary directory {full_tmpdir}; free space in {full_tmpdir}, or "
        "point TMPDIR at a directory with room"
    ), error
    assert sorted(p.name for p in full_tmpdir.iterdir()) == ["filler"]


@pytest.mark.real
def test_an_installer_that_fills_the_temporary_directory_is_not_blamed_on_the_names(
    run_hwb: Run, tmp_path: Path, full_tmpdir: Path
) -> None:
    """uv's "No space left on device" came with "check the names and versions in
    [build-system] requires"."""
    project = tiny_project(tmp_path / "p")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("requires = []", 'requires = ["setuptools>=68"]')
    )
    result = run_hwb(
        "build", str(project), "--isolation", "venv", "-o", str(tmp_path / "out"),
        env={"TMPDIR": str(full_tmpdir)},
    )
    error = fails_cleanly(result, BUILD_FAILED, tmp_path)
    # Which step meets the full disk first depends on what uv's cache holds already: the
    # install (its own words), or making the environment (the pipeline's).
    assert error.startswith((
        "error: could not install build requirements: setuptools>=68; ",
        f"error: no space left in the temporary directory {full_tmpdir}; ",
    )), error
    assert f"free space in {full_tmpdir}, or point TMPDIR at a directory with room" in error
    assert "check the names" not in error
    assert sorted(p.name for p in full_tmpdir.iterdir()) == ["filler"]


# --------------------------------------------------------------------------- hostile sdists


def hostile_sdist(path: Path, bad: tarfile.TarInfo, bad_data: bytes = b"") -> Path:
    """A sdist of a buildable project plus one hostile member, listed last so a careless
    extractor would already have written the rest."""
    pyproject = b'[build-system]\nrequires = []\nbuild-backend = "x"\n[project]\nname = "evil"\nversion = "1.0"\n'
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("evil-1.0/pyproject.toml")
        info.size = len(pyproject)
        tar.addfile(info, io.BytesIO(pyproject))
        bad.size = len(bad_data)
        tar.addfile(bad, io.BytesIO(bad_data) if bad.isfile() else None)
    return path


def test_an_sdist_with_path_traversal_is_refused(run_hwb: Run, tmp_path: Path) -> None:
    sdist = hostile_sdist(
        tmp_path / "dl" / "evil-1.0.tar.gz", tarfile.TarInfo("evil-1.0/../../escaped.txt"), b"x"
    )
    error = fails_cleanly(run_hwb("build", str(sdist)), USAGE, tmp_path)
    assert "evil-1.0.tar.gz contains 'evil-1.0/../../escaped.txt'" in error
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["dl", "evil-1.0.tar.gz", "tmp"]
    assert not list((tmp_path / "tmp").iterdir())  # no extraction directory left behind


def test_an_sdist_with_an_absolute_path_is_refused(run_hwb: Run, tmp_path: Path) -> None:
    target = tmp_path / "planted.txt"
    sdist = hostile_sdist(tmp_path / "evil-1.0.tar.gz", tarfile.TarInfo(str(target)), b"planted")
    error = fails_cleanly(run_hwb("build", str(sdist)), USAGE, tmp_path)
    assert "points outside the archive" in error
    assert not target.exists()


def test_an_sdist_with_a_symlink_leading_out_is_refused(run_hwb: Run, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    link = tarfile.TarInfo("evil-1.0/src")
    link.type = tarfile.SYMTYPE
    link.linkname = "../../outside"
    sdist = hostile_sdist(tmp_path / "dl" / "evil-1.0.tar.gz", link)
    error = fails_cleanly(run_hwb("build", str(sdist)), USAGE, tmp_path)
    assert "link 'evil-1.0/src' -> '../../outside' that leads out of the archive" in error
    assert not list(outside.iterdir())


def test_an_sdist_with_an_absolute_symlink_is_refused(run_hwb: Run, tmp_path: Path) -> None:
    link = tarfile.TarInfo("evil-1.0/etc")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc"
    sdist = hostile_sdist(tmp_path / "evil-1.0.tar.gz", link)
    error = fails_cleanly(run_hwb("build", str(sdist)), USAGE, tmp_path)
    assert "leads out of the archive" in error


@pytest.mark.parametrize(
    ("hooks", "says"),
    [
        (
            "def get_requires_for_build_wheel(config_settings=None):\n"
            "    raise RuntimeError('no requirements today')\n",
            "failed in get_requires_for_build_wheel",
        ),
        (
            "def get_requires_for_build_wheel(config_settings=None):\n    return [42]\n",
            "failed in get_requires_for_build_wheel",
        ),
    ],
    ids=["raises", "not-strings"],
)
def test_a_failing_get_requires_is_blamed_on_that_hook(
    run_hwb: Run, tmp_path: Path, hooks: str, says: str
) -> None:
    """Both hooks share one process on the host: a failure before build_wheel started is
    get_requires_for_build_wheel's."""
    project = write_project(
        tmp_path / "proj",
        {
            "pyproject.toml": """
            [build-system]
            requires = []
            build-backend = "early_backend"
            backend-path = ["."]

            [project]
            name = "early"
            version = "1.0"
            """,
            "early_backend.py": hooks
            + "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
            "    raise AssertionError('never reached')\n",
        },
    )
    result = run_hwb("build", str(project), "--isolation", "venv")
    assert result.returncode == BUILD_FAILED, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"error: the build backend 'early_backend' {says}; the output above")
    assert not [line for line in result.stderr.splitlines() if line.startswith("Traceback")]
    assert_no_wheel(tmp_path)


def test_a_backend_outside_its_backend_path_is_refused(run_hwb: Run, tmp_path: Path) -> None:
    """PEP 517: with backend-path, the backend must come from there (here the standard
    library's json, which is importable from elsewhere, while backend-path names _b)."""
    project = write_project(
        tmp_path / "proj",
        {
            "pyproject.toml": """
            [build-system]
            requires = []
            build-backend = "json"
            backend-path = ["_b"]

            [project]
            name = "dup"
            version = "1.0"
            """,
            "_b/other.py": "",
        },
    )
    error = fails_cleanly(run_hwb("build", str(project), "--isolation", "venv"), BUILD_FAILED, tmp_path)
    assert "build-backend 'json' could not be imported" in error
    assert "not from backend-path" in error
