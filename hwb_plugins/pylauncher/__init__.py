"""Finder ``pylauncher``: the interpreters the Windows py launcher knows (``py -0p``).

The launcher lists every installation registered under PEP 514 (python.org installers, the
Microsoft Store, conda distributions that register), which a ``PATH`` search misses whenever
"Add Python to PATH" was left unticked. Active on Windows only; elsewhere it finds nothing and
runs nothing.

Order: after ``uv`` (``tryfirst``) and before ``system`` (``trylast``), as a plain
implementation like ``pyenv``: managed installs first, then registered installs, then whatever
``PATH`` holds. Every path the launcher prints is asked for its version (never trusted from the
tag), so a stale registry entry is dropped.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from hwb import PythonInfo, PythonSpec, hookimpl, host
from hwb.pythons import best_match, interrogate_many

NAME = "pylauncher"

# 3.11+ launcher:  " -V:3.12 *        C:\...\python.exe"  (company/tag, default marked by *)
_NEW = re.compile(r"^\s*-V:(?P<tag>\S+)(?P<default>\s+\*)?\s+(?P<path>\S.*?)\s*$")
# 3.7-3.10 launcher: " -3.9-64        C:\...\python.exe *"  (default marked after the path)
_OLD = re.compile(
    r"^\s*-(?P<tag>\d+(?:\.\d+)*(?:-(?:32|64|arm64))?)\s+(?P<path>\S.*?)(?P<default>\s+\*)?\s*$"
)


@dataclasses.dataclass(frozen=True)
class LauncherEntry:
    """One interpreter line of ``py -0p``."""

    tag: str
    """``3.12``, ``3.11-32``, ``ContinuumAnalytics/Anaconda39-64`` (new launcher) or
    ``3.9-64`` (old launcher)."""
    path: str
    default: bool = False


def parse_list_paths(output: str) -> list[LauncherEntry]:
    """The interpreters in ``py -0p`` (``--list-paths``) output, in the launcher's order.

    Headers (``Installed Pythons found by py Launcher for Windows``), the "no Pythons" message
    and entries without an executable path (an active virtual environment, Store apps listed
    by name only) are left out: a build needs a base interpreter it can run."""
    entries = []
    for line in output.splitlines():
        match = _NEW.match(line) or _OLD.match(line)
        if not match:
            continue
        path = match.group("path")
        if not _looks_like_executable(path):
            continue
        entries.append(LauncherEntry(match.group("tag"), path, bool(match.group("default"))))
    return entries


def _looks_like_executable(path: str) -> bool:
    """An absolute path (``C:\\...``, ``\\\\server\\...``): the launcher prints a name instead
    for entries it cannot run directly (``Active venv``)."""
    return bool(re.match(r"^[A-Za-z]:[\\/]|^\\\\|^/", path))


def find_launcher(environ: Mapping[str, str] | None = None) -> str | None:
    """``py`` on ``PATH``, else where the installers put it: ``%WINDIR%\\py.exe`` (all users)
    or ``%LOCALAPPDATA%\\Programs\\Python\\Launcher\\py.exe`` (one user)."""
    env = os.environ if environ is None else environ
    found = shutil.which("py", path=env.get("PATH"))
    if found:
        return found
    places = []
    if env.get("WINDIR"):
        places.append(Path(env["WINDIR"]) / "py.exe")
    if env.get("LOCALAPPDATA"):
        places.append(Path(env["LOCALAPPDATA"]) / "Programs" / "Python" / "Launcher" / "py.exe")
    return next((str(p) for p in places if p.is_file()), None)


def launcher_entries(environ: Mapping[str, str] | None = None) -> list[LauncherEntry]:
    """What ``py -0p`` lists on this machine; ``[]`` off Windows or without a launcher."""
    if host.host_os() != "windows":
        return []
    launcher = find_launcher(environ)
    if launcher is None:
        return []
    try:
        out = subprocess.run(
            [launcher, "-0p"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            errors="replace",
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    # Old launchers print the list on stdout and their header on stderr; read both.
    return parse_list_paths(out.stdout + "\n" + out.stderr)


@hookimpl
def list_pythons() -> list[PythonInfo]:
    return interrogate_many([entry.path for entry in launcher_entries()], NAME)


@hookimpl
def find_python(spec: PythonSpec) -> PythonInfo | None:
    if spec.path is not None:  # a file: the path finder's
        return None
    return best_match(spec, list_pythons())
