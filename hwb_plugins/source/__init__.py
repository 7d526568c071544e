"""The source a build works in: an sdist extracted safely, within ``sdist.max-files`` and
``sdist.max-megabytes`` (:mod:`.archive`), and a private copy of a source directory
(:mod:`hwb.snapshot`), or with ``in-place`` the tree itself, one build at a time. On the
``prepare_source`` and ``private_source`` hooks; blocked (``-p no:source``), a build of a
directory stops with a one-line error and an sdist cannot be built."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from hwb import CliOption, ConfigError, ConfigKey, Reporter, UsageError, hookimpl

if TYPE_CHECKING:
    from hwb import Config, Project
    from hwb_plugins.source.archive import Limits

MAX_FILES, MAX_MEGABYTES, IN_PLACE = "sdist.max-files", "sdist.max-megabytes", "in-place"


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {
        MAX_FILES: ConfigKey(
            "int",
            250_000,
            "The most members an sdist may hold (a tar bomb is refused before anything is "
            "written). Read from the environment and command line only.",
        ),
        MAX_MEGABYTES: ConfigKey(
            "int",
            2048,
            "The most an sdist may unpack to, in MB. Read from the environment and command line "
            "only.",
        ),
        IN_PLACE: ConfigKey(
            "bool",
            False,
            "Build in the source tree itself (incremental builds reuse build/), one build of a "
            "tree at a time; default: in a private copy, leaving the tree untouched.",
        ),
    }


@hookimpl
def cli_options(command: str) -> list[CliOption]:
    return [
        CliOption(
            ("--in-place",),
            IN_PLACE,
            "Build in the source tree itself (default: a private copy); one at a time.",
            is_flag=True,
        )
    ]


def archive_limits(config: Config) -> Limits:
    """What an sdist may unpack to, from ``sdist.max-files`` and ``sdist.max-megabytes`` (the
    environment and command line only: the project's own file is inside the archive)."""
    from hwb_plugins.source.archive import Limits

    files, megabytes = int(config.get(MAX_FILES)), int(config.get(MAX_MEGABYTES))
    if files < 1 or megabytes < 1:
        raise ConfigError(
            "sdist.max-files and sdist.max-megabytes must be 1 or more",
            hint="they bound what an sdist may unpack to",
        )
    return Limits(files, megabytes)


@hookimpl
def prepare_source(
    source: Path, config: Config, reporter: Reporter
) -> contextlib.AbstractContextManager[Path]:
    return _prepared(source, config, reporter)


@contextlib.contextmanager
def _prepared(source: Path, config: Config, reporter: Reporter) -> Iterator[Path]:
    """``source`` itself, or an sdist extracted into a temporary place (within the limits)."""
    from hwb_plugins.source.archive import extract_sdist, is_sdist

    if source.is_dir():
        yield source.resolve()
        return
    if not is_sdist(source):
        raise UsageError(
            f"source {source} is neither a directory nor an sdist",
            hint="give a project directory or a .tar.gz source distribution",
        )
    limits = archive_limits(config)
    tmp = Path(tempfile.mkdtemp(prefix="hwb-sdist-"))
    size = source.stat().st_size / 1024 / 1024
    reporter.step(f"extracting {source.name} ({size:.1f} MB)")
    try:
        yield extract_sdist(source.resolve(), tmp, limits)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@hookimpl
def private_source(
    project: Project, source: Path, config: Config, outdir: Path, work_dir: Path, reporter: Reporter
) -> contextlib.AbstractContextManager[Path]:
    return _private(project, source, config, outdir, work_dir, reporter)


@contextlib.contextmanager
def _private(
    project: Project, source: Path, config: Config, outdir: Path, work_dir: Path, reporter: Reporter
) -> Iterator[Path]:
    """A private copy of a source directory (:mod:`hwb.snapshot`), or with ``in-place`` the
    tree itself, locked against a second in-place build. An sdist was extracted into a private
    directory already."""
    from hwb import snapshot

    if not source.is_dir():
        yield project.root
    elif config.get(IN_PLACE):
        with snapshot.tree_lock(project.root, reporter):
            yield project.root
    else:
        started = time.monotonic()
        copy, files = snapshot.copy_tree(project.root, work_dir / "src", skip=[outdir])
        reporter.debug(
            f"copied the source ({files} files) into {copy} in {time.monotonic() - started:.2f}s"
        )
        yield copy
