"""Projects for tests that need a real build but no index: the backend lives in the project."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from tests.conftest import write_project

TINY_BACKEND = Path(__file__).with_name("tiny_backend.py")


def tiny_project(
    root: Path,
    name: str = "tiny",
    *,
    pyproject_extra: str = "",
    files: dict[str, str] | None = None,
) -> Path:
    """A project built by :mod:`tiny_backend` (in-tree, ``requires = []``): building it runs the
    whole pipeline and a real hook subprocess, and installs nothing."""
    package = name.replace("-", "_")
    write_project(
        root,
        {
            "pyproject.toml": f"""
            [build-system]
            requires = []
            build-backend = "tiny_backend"
            backend-path = ["_backend"]

            [project]
            name = "{name}"
            version = "1.0"
            """,
            f"{package}/__init__.py": "VALUE = 42\n",
            **(files or {}),
        },
    )
    if pyproject_extra:
        with (root / "pyproject.toml").open("a") as stream:
            stream.write("\n" + textwrap.dedent(pyproject_extra).lstrip("\n"))
    (root / "_backend").mkdir(exist_ok=True)
    shutil.copy(TINY_BACKEND, root / "_backend" / "tiny_backend.py")
    return root
