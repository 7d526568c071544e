"""Build constraints: the file ``build-constraint`` (``--build-constraint``,
``HWB_BUILD_CONSTRAINT``) names, read and checked for the build (the ``build_constraints``
hook). The core hands it to the isolation (:attr:`hwb_core.interfaces.BuildEnv.build_constraints`),
which applies it with :mod:`hwb.constraints`.

Blocked (``-p no:constraints``), a build that names a file stops with an error rather than
build without the pins."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hwb import ConfigError, hookimpl

if TYPE_CHECKING:
    from hwb import Config, Project
    from hwb.constraints import BuildConstraints

KEY = "build-constraint"


@hookimpl
def build_constraints(config: Config, project: Project) -> BuildConstraints | None:
    return load(config, project.root)


def load(config: Config, project_root: Path) -> BuildConstraints | None:
    """The file ``build-constraint`` names, read and checked; ``None`` when none is set. A
    relative path in pyproject.toml is relative to the project; elsewhere to the current
    directory."""
    value = config.get(KEY)
    if not value:
        return None
    from hwb.constraints import BuildConstraints, parse

    source = config.source(KEY)
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (project_root if source.endswith("pyproject.toml") else Path.cwd()) / path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"build constraints file {path} ({source}) cannot be read ({exc.strerror or exc})",
            hint="give an existing file (hwb lock writes one)",
        ) from None
    return BuildConstraints(path=path.absolute(), source=source, text=text, pins=parse(text, path))
