"""Reading a project: ``[build-system]`` with PEP 517's fallbacks, and static detection of
extension modules (which decides ``--isolation auto``). Nothing here runs the project's code."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwb.extensions import detect as detect_extensions
from hwb.extensions import of as extensions_of
from hwb_core.errors import ConfigError, UsageError
from hwb_core.project import DEFAULT_BACKEND, DEFAULT_REQUIRES, Project
from tests.conftest import write_project

PURE_PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "pure"
version = "1.0"
"""


def pyproject(backend: str, requires: list[str], extra: str = "") -> str:
    quoted = ", ".join(f'"{r}"' for r in requires)
    return f'[build-system]\nrequires = [{quoted}]\nbuild-backend = "{backend}"\n\n[project]\nname = "p"\nversion = "1.0"\n{extra}'


def load(root: Path, files: dict[str, str]) -> Project:
    return Project.load(write_project(root, files))


# --------------------------------------------------------------------------- build-system


def test_build_system_is_read_as_declared(tmp_path: Path) -> None:
    project = load(tmp_path, {"pyproject.toml": PURE_PYPROJECT, "pure/__init__.py": ""})
    assert (project.name, project.build_backend, project.build_requires) == (
        "pure",
        "hatchling.build",
        ["hatchling"],
    )
    assert project.backend_path is None
    assert project.pyproject_path == tmp_path / "pyproject.toml"


def test_a_setup_py_project_without_pyproject_gets_pep_517_fallbacks(tmp_path: Path) -> None:
    project = load(tmp_path, {"setup.py": "from setuptools import setup\nsetup(name='legacy')\n"})
    assert project.pyproject_path is None
    assert project.build_backend == DEFAULT_BACKEND
    assert project.build_requires == DEFAULT_REQUIRES


def test_a_pyproject_without_build_backend_uses_the_legacy_backend_with_its_requires(
    tmp_path: Path,
) -> None:
    project = load(
        tmp_path, {"pyproject.toml": '[build-system]\nrequires = ["setuptools>=69", "wheel"]\n'}
    )
    assert project.build_backend == DEFAULT_BACKEND
    assert project.build_requires == ["setuptools>=69", "wheel"]


def test_backend_path_is_kept(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        {
            "pyproject.toml": pyproject("local", [], "x = 1\n").replace(
                'build-backend = "local"', 'build-backend = "local"\nbackend-path = ["_custom"]'
            )
        },
    )
    assert project.backend_path == ["_custom"]


def test_requires_must_be_a_list_of_strings(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"build-system\.requires in .* must be a list of strings"
    ):
        load(
            tmp_path,
            {
                "pyproject.toml": '[build-system]\nrequires = "hatchling"\nbuild-backend = "hatchling.build"\n'
            },
        )


def test_a_directory_without_a_project_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"neither pyproject\.toml nor setup\.py"):
        load(tmp_path, {"README.md": "hello\n"})


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ('[project]\nname = "x"\nversion = 1.0.0\n', "line 3, column "),
        ('[project]\nname = "x"\nname = "y"\n', "line 3, column 11"),
        ('[project]\nname = "x"\n\n[project]\n', "line 4, column "),
        ('[project]\nname = "x"\nversion = "1', "line 3, column 13: Unterminated string"),
    ],
    ids=["bad-value", "duplicate-key", "duplicate-table", "unterminated-at-end"],
)
def test_invalid_toml_reports_file_line_and_column(
    tmp_path: Path, text: str, position: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, {"pyproject.toml": text})
    assert info.value.message.startswith(
        f"invalid TOML in {tmp_path / 'pyproject.toml'} at {position}"
    )


def test_tool_hwb_must_be_a_table(tmp_path: Path) -> None:
    project = load(tmp_path, {"pyproject.toml": PURE_PYPROJECT + '\n[tool]\nhwb = "fast"\n'})
    with pytest.raises(ConfigError, match=r"\[tool.hwb\] .* must be a table"):
        _ = project.tool_hwb


# --------------------------------------------------------------------------- no extensions


def test_a_pure_project_has_no_extensions(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        {"pyproject.toml": PURE_PYPROJECT, "src/pure/__init__.py": "", "src/pure/data.json": "{}"},
    )
    assert not extensions_of(project).detected
    assert extensions_of(project).languages == set()


@pytest.mark.parametrize(
    "folder",
    ["tests", "test", "docs", "doc", "examples", "benchmarks", "build", ".tox", "node_modules"],
)
def test_compiled_sources_outside_the_package_do_not_count(tmp_path: Path, folder: str) -> None:
    project = load(
        tmp_path,
        {
            "pyproject.toml": PURE_PYPROJECT,
            "pure/__init__.py": "",
            f"{folder}/fixtures/sample.c": "int main(void) { return 0; }\n",
            f"{folder}/fixtures/lib.rs": "fn main() {}\n",
        },
    )
    assert not extensions_of(project).detected, extensions_of(project).reasons


def test_sources_inside_a_virtual_environment_in_the_tree_do_not_count(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        {
            "pyproject.toml": PURE_PYPROJECT,
            "pure/__init__.py": "",
            "devenv/pyvenv.cfg": "home = /usr/bin\n",
            "devenv/include/python3.12/Python.h": "/* header */\n",
        },
    )
    assert not extensions_of(project).detected, extensions_of(project).reasons


# --------------------------------------------------------------------------- setup.py, read statically

NEVER_RUN = """
from setuptools import Extension, setup
open({marker!r}, "w").write("setup.py was executed")
raise SystemExit("setup.py must never run to decide anything")
setup(name="native", ext_modules={ext_modules})
"""


def setup_py(marker: Path, ext_modules: str) -> str:
    return NEVER_RUN.format(marker=str(marker), ext_modules=ext_modules)


def test_ext_modules_in_setup_py_are_found_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "executed.txt"
    project = load(
        tmp_path / "proj",
        {"setup.py": setup_py(marker, '[Extension("native._c", ["native/_c.c"])]')},
    )
    assert extensions_of(project).detected
    assert "ext_modules in setup.py" in extensions_of(project).reasons
    assert not marker.exists()


def test_ext_modules_built_by_a_helper_function_are_found(tmp_path: Path) -> None:
    project = load(tmp_path, {"setup.py": setup_py(tmp_path / "x", "make_extensions()")})
    assert "ext_modules in setup.py" in extensions_of(project).reasons


def test_an_extension_call_anywhere_in_setup_py_counts(tmp_path: Path) -> None:
    text = 'from Cython.Build import cythonize\nfrom setuptools import setup\nmods = cythonize("native/*.pyx")\nsetup(name="n")\n'
    project = load(tmp_path, {"setup.py": text})
    assert extensions_of(project).detected


def test_empty_ext_modules_in_setup_py_do_not_count(tmp_path: Path) -> None:
    project = load(tmp_path, {"setup.py": setup_py(tmp_path / "x", "[]")})
    assert not extensions_of(project).detected, extensions_of(project).reasons


def test_a_setup_py_that_does_not_parse_is_no_evidence_and_no_crash(tmp_path: Path) -> None:
    project = load(tmp_path, {"setup.py": "setup(ext_modules=[Extension(\n"})
    assert not extensions_of(project).detected


# --------------------------------------------------------------------------- pyproject evidence


def test_ext_modules_in_tool_setuptools_count(tmp_path: Path) -> None:
    extra = '\n[tool.setuptools]\next-modules = [{name = "p._speed", sources = ["p/_speed.c"]}]\n'
    project = load(
        tmp_path, {"pyproject.toml": pyproject("setuptools.build_meta", ["setuptools>=74"], extra)}
    )
    assert extensions_of(project).reasons == ["[tool.setuptools] ext-modules"]
    assert extensions_of(project).languages == {"c"}


@pytest.mark.parametrize(
    ("backend", "requires", "language"),
    [
        ("scikit_build_core.build", ["scikit-build-core>=0.10"], "c++"),
        ("mesonpy", ["meson-python"], "c"),
        ("maturin", ["maturin>=1,<2"], "rust"),
        ("setuptools.build_meta", ["setuptools", "setuptools-rust>=1.9"], "rust"),
        ("setuptools.build_meta", ["setuptools", "Cython>=3"], "cython"),
        ("setuptools.build_meta", ["setuptools", "pybind11"], "c++"),
    ],
    ids=["scikit-build-core", "meson-python", "maturin", "setuptools-rust", "cython", "pybind11"],
)
def test_extension_backends_and_build_requirements_count(
    tmp_path: Path, backend: str, requires: list[str], language: str
) -> None:
    project = load(tmp_path, {"pyproject.toml": pyproject(backend, requires)})
    assert extensions_of(project).detected
    assert extensions_of(project).languages == {language}


def test_a_requirement_whose_name_merely_contains_a_backend_name_does_not_count(
    tmp_path: Path,
) -> None:
    project = load(
        tmp_path,
        {"pyproject.toml": pyproject("hatchling.build", ["hatchling", "maturin-docs-theme"])},
    )
    assert not extensions_of(project).detected, extensions_of(project).reasons


def test_cargo_toml_counts_as_rust(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        {
            "pyproject.toml": PURE_PYPROJECT,
            "Cargo.toml": '[package]\nname = "p"\nversion = "0.1.0"\n',
        },
    )
    assert "Cargo.toml" in extensions_of(project).reasons
    assert extensions_of(project).languages == {"rust"}


# --------------------------------------------------------------------------- sources in the package


@pytest.mark.parametrize(
    ("source", "language"),
    [
        ("src/pure/_speed.c", "c"),
        ("pure/_fast.cpp", "c++"),
        ("pure/_loops.pyx", "cython"),
        ("src/lib.rs", "rust"),
    ],
)
def test_compiled_sources_in_the_package_count(tmp_path: Path, source: str, language: str) -> None:
    project = load(
        tmp_path, {"pyproject.toml": PURE_PYPROJECT, "pure/__init__.py": "", source: "/* code */\n"}
    )
    assert extensions_of(project).detected
    assert extensions_of(project).reasons == [f"sources in {language}"]
    assert extensions_of(project).languages == {language}


def test_every_piece_of_evidence_is_listed(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        {
            "pyproject.toml": pyproject("maturin", ["maturin"]),
            "Cargo.toml": '[package]\nname = "p"\n',
            "src/lib.rs": "fn f() {}\n",
        },
    )
    assert extensions_of(project).reasons == [
        "build requirement or backend maturin",
        "Cargo.toml",
        "sources in rust",
    ]


def test_detect_extensions_can_be_asked_again_for_a_loaded_project(tmp_path: Path) -> None:
    project = load(tmp_path, {"pyproject.toml": PURE_PYPROJECT})
    assert not detect_extensions(project).detected
    (tmp_path / "pure").mkdir()
    (tmp_path / "pure" / "_c.c").write_text("int x;\n")
    assert detect_extensions(project).languages == {"c"}
