"""Finder ``opt-python``: interpreters laid out as in the manylinux images,
``/opt/python/<tag>/bin/python``."""

from __future__ import annotations

from pathlib import Path

from hwb import Config, ConfigKey, PythonInfo, PythonSpec, hookimpl
from hwb.pythons import best_match, interrogate_many

ROOT_KEY = "finders.opt-python.root"


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {ROOT_KEY: ConfigKey("path", "/opt/python", "Where <tag>/bin/python interpreters are.")}


@hookimpl
def list_pythons(config: Config) -> list[PythonInfo]:
    executables = sorted(str(p) for p in Path(config.get(ROOT_KEY)).glob("*/bin/python"))
    # Each one is run once and asked what it is; the answers are cached by path and mtime.
    return interrogate_many(executables, "opt-python")


@hookimpl
def find_python(spec: PythonSpec, config: Config) -> PythonInfo | None:
    return best_match(spec, list_pythons(config))  # None: let the next finder look
