"""The default runner of each platform-architecture on each CI system, read from
``runners.toml`` (one data file, with the date its labels were last checked against what the
providers document)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _load() -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads(
        Path(__file__).with_name("runners.toml").read_text(encoding="utf-8")
    )
    return data


_DATA = _load()

#: When the labels were checked: ``"2026-12-05"``.
CHECKED: str = _DATA["checked"]
#: ``{"github": {"linux-x86_64": "ubuntu-latest", ...}, "gitlab": {...}}``.
DEFAULT_RUNNERS: dict[str, dict[str, str]] = {ci: dict(_DATA[ci]) for ci in ("github", "gitlab")}
#: The image of each GitLab build job by PLATFORM-ARCH (none for Windows).
DEFAULT_IMAGES: dict[str, str] = dict(_DATA["gitlab-images"])
