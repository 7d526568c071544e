"""hwb, the Headless Wheel Builder: the kernel (hooks, plugin manager, configuration, project,
pipeline, PEP 517 driver, errors and reporting).

Its modules are private: plugins import the public toolkit, ``hwb`` (docs/writing-plugins.md,
"The toolkit"). ``from hwb_core import hookimpl`` keeps working for plugins written before it.
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
