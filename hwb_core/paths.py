"""Where hwb keeps its caches (platformdirs conventions; ``HWB_CACHE_DIR`` overrides)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def cache_dir() -> Path:
    override = os.environ.get("HWB_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform == "linux":
        # platformdirs' rule on Linux, without its import on every start: $XDG_CACHE_HOME
        # unless empty, else ~/.cache (tests/test_startup.py checks they agree).
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
        return Path(base, "hwb")
    import platformdirs

    return Path(platformdirs.user_cache_dir("hwb", appauthor=False))
