"""CI-native logs: inside GitHub Actions (``GITHUB_ACTIONS=true``) or GitLab CI
(``GITLAB_CI=true``) every build is folded (``::group::``, GitLab's collapsible sections), a
failed build ends with an error naming it and its step (an ``::error`` annotation on GitHub, a
red line on GitLab), and ``hwb matrix`` and ``hwb collect`` add a Markdown table of their jobs
to ``$GITHUB_STEP_SUMMARY`` (through the matrix plugin's ``matrix_jobs_done`` hook). Nothing
of it outside CI; ``--no-ci-log``, ``HWB_CI_LOG=false`` or ``[tool.hwb] ci-log = false`` turns
it off.

On the ``build`` hook, as the outermost wrapper (a build started from a wrapper, the second one
of ``--check-reproducible``, stays inside the first one's fold). The folding itself:
:mod:`.reporter`; the CIs' markers: :mod:`.folds`; the table: :mod:`.summary`.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

from hwb import CliOption, Config, ConfigKey, hookimpl

#: The configuration key; ``HWB_CI_LOG`` in the environment.
KEY = "ci-log"

_here = threading.local()


@hookimpl
def config_schema() -> dict[str, ConfigKey]:
    return {KEY: ConfigKey("bool", True, "Fold the log and summarise the jobs inside CI.")}


@hookimpl
def cli_options(command: str) -> list[CliOption] | None:
    if command not in ("build", "matrix", "collect"):
        return None
    return [
        CliOption(
            ("--no-ci-log",),
            KEY,
            help="No CI-native log inside GitHub Actions or GitLab CI (folded groups, error "
            "annotations, the job summary).",
            is_flag=True,
            flag_value=False,
        )
    ]


@hookimpl(wrapper=True, tryfirst=True)
def build(request: Any, session: Any) -> Generator[None, Any, Any]:
    from hwb_plugins.cilog.folds import Folds, detect

    ci = detect(session.environ)
    if ci is None or getattr(_here, "inside", False) or not _wanted(request, session):
        return (yield)
    from hwb_plugins.cilog.reporter import FoldingReporter

    inner = session.reporter
    reporter = FoldingReporter(inner, Folds(ci), buffered=session.scope is not None)
    session.reporter, _here.inside = reporter, True
    try:
        result = yield
    except Exception as exc:
        reporter.finish(exc, failed=True)
        raise
    except BaseException as exc:  # Ctrl-C, a matrix job stopped: no failure of the build's
        reporter.finish(exc, failed=False)
        raise
    finally:
        session.reporter, _here.inside = inner, False
    reporter.finish(None, failed=False)
    return result


def _wanted(request: Any, session: Any) -> bool:
    """``ci-log`` for this build: the command line's, the environment's, the project's."""
    from hwb import Project

    project = None
    source = Path(request.source)
    if source.is_dir() and (source / "pyproject.toml").is_file():
        try:
            project = Project.load(source)
        except Exception:
            project = None  # the build says what is wrong with it
    try:
        return bool(session.config_for(project, request.overrides).get(KEY))
    except Exception:
        return True


@hookimpl(optionalhook=True)
def matrix_jobs_done(
    command: str, jobs: Sequence[Mapping[str, Any]], config: Config, environ: Mapping[str, str]
) -> None:
    from hwb_plugins.cilog.folds import GITHUB, detect
    from hwb_plugins.cilog.summary import append_summary

    path = environ.get("GITHUB_STEP_SUMMARY")
    if detect(environ) != GITHUB or not path or not config.get(KEY):
        return
    append_summary(Path(path), command, jobs)
