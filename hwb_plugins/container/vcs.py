"""Versions from git inside a container whose image has no git.

The source copied into the container keeps ``.git``, so where the image has git (every pypa
manylinux and musllinux image does) setuptools-scm, hatch-vcs and friends read the version as on
the host. Where it has none, they would stop with "unable to detect version". Then hwb asks the
host's git (the checkout is the user's own) for what ``git archive`` would have written into a
``.git_archival.txt`` and writes that file into the container's copy of the source: the project's
own version scheme turns it into the version, in the container, as setuptools-scm does for a
``git archive`` tarball. The user's tree is never written to.

What the file cannot carry: uncommitted changes (a dirty tree gets the version of its last
commit, without the ``+d20261130`` local part). The node is written whole, which setuptools-scm
9 shortens as it does in a checkout; setuptools-scm 8 and older print it whole after a ``+g``
when HEAD is past the tag (a tagged release is the same either way).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# What setuptools-scm (its vcs-versioning core) runs itself to describe a checkout, without
# --dirty (see above). The whole node: setuptools-scm cuts it to the length it shows itself.
_DESCRIBE = ["describe", "--tags", "--long", "--abbrev=40", "--match", "*[0-9]*"]
# A checkout's own configuration may name programs git runs (core.fsmonitor): not these.
_SAFE = ["-c", "core.fsmonitor=false", "-c", "safe.directory=*"]

# Run in the container: does its PATH have git?
HAS_GIT = "import shutil, sys; sys.exit(0 if shutil.which('git') else 3)"
# Run in the container: write argv[2] to the file argv[1].
WRITE = "import sys; open(sys.argv[1], 'w', encoding='utf-8').write(sys.argv[2])"


def is_checkout(root: Path) -> bool:
    """Whether ``root`` is the top of a git checkout (``.git`` a directory, or a file for a
    worktree or submodule)."""
    return (root / ".git").exists()


def archival(root: Path) -> str | None:
    """The text of a ``.git_archival.txt`` describing the checkout's HEAD, or ``None`` when the
    host has no git or git cannot describe it."""
    git = shutil.which("git")
    if git is None:
        return None
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}

    def ask(*args: str) -> str | None:
        try:
            done = subprocess.run(
                [git, *_SAFE, "-C", str(root), *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None

    node = ask("rev-parse", "HEAD")
    if node is None:
        return None
    lines = [f"node: {node}"]
    date = ask("log", "-1", "--format=%cI", "HEAD")
    if date:
        lines.append(f"node-date: {date}")
    describe = ask(*_DESCRIBE)
    if describe:
        lines.append(f"describe-name: {describe}")
    return "\n".join(lines) + "\n"
