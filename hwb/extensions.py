"""Static detection of a project's extension modules (which decides ``--isolation auto``,
the matrix's pure-wheel shortcut, and whether a wheel is worth trying in a fresh environment).

Detection is static: ``setup.py`` is parsed, never executed, to decide anything.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import weakref
from pathlib import Path

from hwb_core.project import Project

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


_detected: dict[int, tuple[weakref.ref[Project], Extensions]] = {}


def of(project: Project) -> Extensions:
    """What :func:`detect` finds in ``project``, detected once per loaded project (the first
    plugin to ask pays for the walk through its sources)."""
    key = id(project)
    kept = _detected.get(key)
    if kept is not None and kept[0]() is project:
        return kept[1]
    found = detect(project)
    _detected[key] = (weakref.ref(project), found)
    weakref.finalize(project, _detected.pop, key, None)
    return found


def detect(project: Project) -> Extensions:
    """Whether ``project`` compiles extension modules, and the evidence, looked for now:
    its backend and build requirements, ``[tool.setuptools] ext-modules``, ``Cargo.toml``,
    ``setup.py`` (parsed, never run) and compiled sources in its package directories."""
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
    from hwb.requirements import name_of

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
