"""The project being built: ``pyproject.toml`` read once, and extension modules detected.

Detection is static: ``setup.py`` is parsed, never executed, to decide anything.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

from hwb_core.errors import ConfigError, UsageError

DEFAULT_REQUIRES = ["setuptools>=40.8.0"]
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"

# Backends and build requirements that only exist to compile extension modules.
_EXTENSION_BACKENDS = {
    "scikit_build_core": "c++",
    "mesonpy": "c",
    "maturin": "rust",
    "setuptools_rust": "rust",
    "pybind11": "c++",
    "cython": "cython",
    "nanobind": "c++",
}
_SOURCE_SUFFIXES = {
    ".c": "c",
    ".h": "c",
    ".cc": "c++",
    ".cpp": "c++",
    ".cxx": "c++",
    ".hpp": "c++",
    ".pyx": "cython",
    ".pxd": "cython",
    ".rs": "rust",
    ".f90": "fortran",
    ".f": "fortran",
}
_SKIP_DIRS = {
    "build",
    "dist",
    "docs",
    "doc",
    "tests",
    "test",
    "testing",
    "examples",
    "benchmarks",
    "bench",
    "node_modules",
    "target",
    "__pycache__",
    "site-packages",
    "venv",
    "env",
}
_SETUP_EXTENSION_NAMES = {
    "Extension",
    "Pybind11Extension",
    "RustExtension",
    "RustBin",
    "cythonize",
    "CppExtension",
    "CUDAExtension",
}


@dataclasses.dataclass
class Extensions:
    """Whether the project compiles extension modules, and the evidence."""

    reasons: list[str] = dataclasses.field(default_factory=list)
    languages: set[str] = dataclasses.field(default_factory=set)

    @property
    def detected(self) -> bool:
        return bool(self.reasons)


@dataclasses.dataclass
class Project:
    root: Path
    pyproject_path: Path | None
    pyproject: dict[str, Any]
    build_requires: list[str]
    build_backend: str
    backend_path: list[str] | None
    extensions: Extensions

    @property
    def name(self) -> str:
        name = self.pyproject.get("project", {}).get("name")
        return str(name) if name else self.root.name

    @property
    def requires_python(self) -> str | None:
        value = self.pyproject.get("project", {}).get("requires-python")
        return str(value) if value else None

    @property
    def tool_hwb(self) -> dict[str, Any]:
        tool = self.pyproject.get("tool", {})
        value = tool.get("hwb", {}) if isinstance(tool, dict) else {}
        if not isinstance(value, dict):
            raise ConfigError(f"[tool.hwb] in {self.pyproject_path} must be a table")
        return value

    @classmethod
    def load(cls, root: Path) -> Project:
        root = root.resolve()
        pyproject_path = root / "pyproject.toml"
        has_setup = (root / "setup.py").is_file()
        if not pyproject_path.is_file():
            if not has_setup:
                raise UsageError(
                    f"{root} has neither pyproject.toml nor setup.py",
                    hint="point hwb at the directory that holds your project's pyproject.toml",
                )
            data: dict[str, Any] = {}
            path: Path | None = None
        else:
            data = read_toml(pyproject_path)
            path = pyproject_path
        build_system = data.get("build-system", {})
        if not isinstance(build_system, dict):
            raise ConfigError(f"[build-system] in {pyproject_path} must be a table")
        if "build-backend" in build_system:
            requires = build_system.get("requires")
            if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
                raise ConfigError(
                    f"build-system.requires in {pyproject_path} must be a list of strings",
                    hint='for example requires = ["hatchling"]',
                )
            backend = build_system["build-backend"]
            if not isinstance(backend, str) or not backend.strip():
                raise ConfigError(
                    f"build-system.build-backend in {pyproject_path} must be a string"
                )
        else:
            # PEP 517's fallback: setuptools' legacy backend.
            requires = build_system.get("requires", DEFAULT_REQUIRES)
            backend = DEFAULT_BACKEND
        backend_path = build_system.get("backend-path")
        project = cls(
            root=root,
            pyproject_path=path,
            pyproject=data,
            build_requires=list(requires),
            build_backend=backend,
            backend_path=list(backend_path) if backend_path else None,
            extensions=Extensions(),
        )
        project.extensions = detect_extensions(project)
        return project


def read_toml(path: Path) -> dict[str, Any]:
    """``path`` parsed with the standard library's TOML reader (``tomli`` before 3.11); a
    syntax error names the file, line and column."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except tomllib.TOMLDecodeError as exc:
        reason, line, column = _toml_error(str(exc), text)
        raise ConfigError(
            f"invalid TOML in {path} at line {line}, column {column}: {reason}",
            hint="fix the syntax there",
        ) from None


def _toml_error(message: str, text: str) -> tuple[str, int, int]:
    """The reason and position in a ``TOMLDecodeError`` message: ``... (at line 3, column 14)``,
    or ``(at end of document)``, which is the end of the last line."""
    import re

    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match:
        return message[: match.start()], int(match.group(1)), int(match.group(2))
    reason = re.sub(r"\s*\(at end of document\)$", "", message)
    lines = text.splitlines() or [""]
    return reason, len(lines), len(lines[-1]) + 1


def detect_extensions(project: Project) -> Extensions:
    found = Extensions()
    requires_names = {_requirement_name(r) for r in project.build_requires}
    backend_top = project.build_backend.split(":")[0].split(".")[0]
    for name, language in _EXTENSION_BACKENDS.items():
        if backend_top == name or name in requires_names:
            found.reasons.append(f"build requirement or backend {name}")
            found.languages.add(language)
    tool = project.pyproject.get("tool", {})
    setuptools_table = tool.get("setuptools", {}) if isinstance(tool, dict) else {}
    if isinstance(setuptools_table, dict) and setuptools_table.get("ext-modules"):
        found.reasons.append("[tool.setuptools] ext-modules")
        found.languages.add("c")
    if (project.root / "Cargo.toml").is_file():
        found.reasons.append("Cargo.toml")
        found.languages.add("rust")
    setup_py = project.root / "setup.py"
    if setup_py.is_file() and _setup_py_has_extensions(setup_py):
        found.reasons.append("ext_modules in setup.py")
    sources = _source_languages(project.root)
    if sources:
        found.reasons.append("sources in " + ", ".join(sorted(sources)))
        found.languages.update(sources)
    return found


def _requirement_name(requirement: str) -> str:
    """``"scikit-build-core>=0.9"`` -> ``"scikit_build_core"`` (as its import name is spelled);
    ``""`` for text that does not start with a name (the backend reports it when it installs).
    Only the name is read: parsing the whole requirement would import a parser for nothing."""
    from hwb_core.requirements import name_of

    return name_of(requirement).replace("-", "_")


def _setup_py_has_extensions(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError, OSError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "ext_modules":
            if not (isinstance(node.value, (ast.List, ast.Tuple)) and not node.value.elts):
                return True
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in _SETUP_EXTENSION_NAMES:
                return True
    return False


def _source_languages(root: Path, limit: int = 20000) -> set[str]:
    """Languages of compiled sources in the package directories (tests and docs excluded)."""
    languages: set[str] = set()
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [
            d
            for d in dirnames
            if not d.startswith(".")
            and d.lower() not in _SKIP_DIRS
            and not (Path(dirpath, d, "pyvenv.cfg")).exists()
        ]
        for filename in filenames:
            seen += 1
            language = _SOURCE_SUFFIXES.get(os.path.splitext(filename)[1].lower())
            if language:
                languages.add(language)
        if seen > limit:
            break
    return languages
