"""Where things are inside a build container, and removing what a container wrote on the host.

Layout inside the container::

    /hwb/src         the project, mounted read-only
    /hwb/scratch     writable, private to this build (a host temporary directory):
        src/           the copy of /hwb/src the backend builds in (it may write into its tree)
        env/           the virtual environment holding the build requirements
        home/          HOME (pip, compilers' caches)
    /hwb/work        hwb's work directory for this build: the wheel and the repaired wheel, and
                     the control directory of each PEP 517 driver process (the driver, its
                     request and its result)
    /hwb/wheelhouse  wheels the host downloaded for the container (offline builds), read-only
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path
from typing import Any

SRC_MOUNT = "/hwb/src"
SCRATCH = "/hwb/scratch"
WORK = "/hwb/work"
WHEELHOUSE = "/hwb/wheelhouse"
"""The host's wheelhouse (every target's directory), read-only."""
UV = "/hwb/bin/uv"
"""hwb's own uv, read-only, where it runs in the image (same architecture, a glibc)."""
BUILD_SRC = f"{SCRATCH}/src"
"""The writable copy of the source that the backend builds in."""
VENV = f"{SCRATCH}/env"
HOME = f"{SCRATCH}/home"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: Labels on every container hwb makes: ``docker ps -a --filter label=hwb=1`` lists them.
LABEL = "hwb"


def rmtree(path: Path) -> None:
    """Remove a tree the container wrote, read-only directories included."""

    def make_writable(func: Any, name: str, _exc: Any) -> None:
        try:
            os.chmod(os.path.dirname(name), stat.S_IRWXU)
            os.chmod(name, stat.S_IRWXU)
            func(name)
        except OSError:
            pass

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=make_writable)
    else:
        shutil.rmtree(path, onerror=make_writable)
