"""The project being built: ``pyproject.toml`` read once (its extension modules are the
toolkit's to detect: :mod:`hwb.extensions`)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from hwb_core.errors import ConfigError, UsageError

DEFAULT_REQUIRES = ["setuptools>=40.8.0"]
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"


@dataclasses.dataclass
class Project:
    root: Path
    pyproject_path: Path | None
    pyproject: dict[str, Any]
    build_requires: list[str]
    build_backend: str
    backend_path: list[str] | None

    def __getattr__(self, attr: str) -> Any:
        if attr == "extensions":  # an attribute before 0.4: say where it went
            raise AttributeError("Project.extensions is now hwb.extensions.of(project)")
        raise AttributeError(f"'Project' object has no attribute {attr!r}")

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
        )
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
