"""How each CI folds a log and shows an error: GitHub Actions' workflow commands
(``::group::``, ``::endgroup::``, ``::error``) and GitLab's collapsible sections
(``section_start`` / ``section_end``, an error in red).

https://docs.github.com/actions/reference/workflow-commands-for-github-actions and
https://docs.gitlab.com/ci/jobs/job_logs/#custom-collapsible-sections.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Mapping

GITHUB = "github"
GITLAB = "gitlab"

_ESC = "\033"
_sections = itertools.count(1)


def detect(environ: Mapping[str, str]) -> str | None:
    """The CI this process runs in, as the CI itself says (``GITHUB_ACTIONS=true``,
    ``GITLAB_CI=true``), or ``None``."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return GITHUB
    if environ.get("GITLAB_CI") == "true":
        return GITLAB
    return None


def _data(text: str) -> str:
    """A workflow command's message, escaped as the runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Folds:
    """The lines that open and close a folded group, and an error, for one CI. GitLab
    sections need a name of their own (letters, digits, ``_.-``): a counter gives each one."""

    def __init__(self, ci: str) -> None:
        self.ci = ci
        self._open: list[str] = []

    def start(self, header: str) -> str:
        header = _one_line(header)
        if self.ci == GITHUB:
            self._open.append("")
            return f"::group::{_data(header)}"
        name = f"hwb_{next(_sections)}"
        self._open.append(name)
        return (
            f"{_ESC}[0Ksection_start:{int(time.time())}:{name}[collapsed=true]\r{_ESC}[0K{header}"
        )

    def end(self) -> str | None:
        """The line that closes the group opened last, ``None`` when none is open."""
        if not self._open:
            return None
        name = self._open.pop()
        if self.ci == GITHUB:
            return "::endgroup::"
        return f"{_ESC}[0Ksection_end:{int(time.time())}:{name}\r{_ESC}[0K"

    def error(self, title: str, message: str) -> str:
        """An error: an annotation on GitHub (``title`` names the build and step), a red line
        on GitLab."""
        if self.ci == GITHUB:
            return f"::error title={_property(_one_line(title))}::{_data(message)}"
        lines = f"error: {_one_line(title)}: {message}".split("\n")
        return "\n".join(f"{_ESC}[31;1m{line}{_ESC}[0m" for line in lines)


_REASON = re.compile(r"\s*\([^()]*\)$")


def build_name(first_step: str | None) -> str:
    """What a build is called in a group's header and an error's title: its first step
    (``building NAME for PYTHON in ISOLATION (why)``) without the word and the reason."""
    if not first_step:
        return "hwb build"
    name = _REASON.sub("", first_step)
    return name.removeprefix("building ").strip() or first_step
