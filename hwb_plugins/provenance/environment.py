"""What the build environment held once the backend had built the wheel, for the record's
``build_requirements``: ``{"name", "version", "files_sha256"}`` each (:mod:`.listing`).

The backend's own process lists it after ``build_wheel`` (the ``after_build_scripts`` hook),
which saves the build a process; when that listing is missing (a plugin ran the backend some
other way) the environment is asked with ``env.run``. An environment that can remember a
value between builds (a cached venv's ``remembered``) keeps the answer: a complete one never
changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hwb import BuildEnv

#: The listing script (it imports nothing from hwb: it runs under the build's interpreter).
LISTING = Path(__file__).resolve().with_name("listing.py")


def _answer(work_dir: Path) -> Path:
    return work_dir / "provenance" / "distributions.json"


def scripts(env: BuildEnv, work_dir: Path) -> list[tuple[Path, str]]:
    """The listing, for the backend's process to run once the wheel is built."""
    answer = _answer(work_dir)
    answer.parent.mkdir(parents=True, exist_ok=True)
    return [(LISTING, env.env_path(answer))]


def held(env: BuildEnv, work_dir: Path) -> list[dict[str, Any]]:
    """What the environment held: the backend process's listing, else asked now. An empty
    list when the interpreter cannot say (the record says less; the build is not failed)."""

    def find() -> list[dict[str, Any]]:
        seen = _read(_answer(work_dir))
        return seen if seen is not None else listed(env, work_dir / "installed")

    remembered = getattr(env, "remembered", None)
    if remembered is not None:
        found: list[dict[str, Any]] = remembered("distributions", find)
        return found
    return find()


def interpreter(work_dir: Path) -> dict[str, str] | None:
    """The build interpreter's executable as the environment saw it (``{"path", "sha256"}``,
    a container's own), written beside the listing; ``None`` when there is none."""
    for answer in (_answer(work_dir), work_dir / "installed" / "distributions.json"):
        try:
            found = json.loads(answer.with_name("interpreter.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(found, dict) and isinstance(found.get("sha256"), str):
            return {"path": str(found.get("path", "")), "sha256": found["sha256"]}
    return None


def listed(env: BuildEnv, scratch: Path) -> list[dict[str, Any]]:
    """Every distribution ``env.python_executable`` sees, asked with ``env.run`` (the script's
    text with ``python -c``: the environment may not see hwb's files, a container) and
    written to a file in ``scratch`` (a new directory in the build's work directory, which
    the environment sees)."""
    scratch.mkdir(parents=True, exist_ok=True)
    answer = scratch / "distributions.json"
    try:
        cmd = [env.python_executable, "-c", script(), env.env_path(answer)]
        if env.run(cmd, check=False).returncode != 0:
            return []
        return _read(answer) or []
    except Exception:  # the record says less; the build is not failed for it
        return []


def script() -> str:
    """The listing script's text."""
    return LISTING.read_text(encoding="utf-8")


def _read(path: Path) -> list[dict[str, Any]] | None:
    try:
        found: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found
