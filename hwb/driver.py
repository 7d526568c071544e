"""The core's PEP 517 driver: a script that runs a backend's hooks under the build's own
interpreter (Python 3.8 and newer), importing nothing of hwb. Its request and result are
described in the script's docstring. Found here without importing more of hwb than its package,
for plugins that start it early."""

from __future__ import annotations

import os

import hwb_core

DRIVER = os.path.join(
    os.path.dirname(os.path.realpath(hwb_core.__file__)), "_driver", "hook_driver.py"
)

__all__ = ["DRIVER"]
