"""hwb, the Headless Wheel Builder: core package (hookspecs, discovery, pipeline, CLI).

Plugins use ``from hwb_core import hookimpl``. Everything else is imported from its module so
that ``hwb --version`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hwb_core.hookspecs import hookimpl as hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]


def __getattr__(name: str) -> Any:
    if name == "hookimpl":
        from hwb_core.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'hwb_core' has no attribute {name!r}")
