"""Where hwb keeps its caches (platformdirs conventions; ``HWB_CACHE_DIR`` overrides)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    override = os.environ.get("HWB_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("hwb", appauthor=False))
