"""What a command may draw on the terminal it runs in."""

from __future__ import annotations

import os
from typing import TextIO


def live_wanted(stream: TextIO) -> bool:
    """A live status line (or a redrawn table) only where someone watches: a terminal that can
    redraw a line."""
    # NO_COLOR users ask for plain text: no redrawn line either (cursor movements are escapes).
    if os.environ.get("TERM") == "dumb" or os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
