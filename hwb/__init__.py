"""hwb's public toolkit: every name a plugin may import.

A plugin imports from here, ``from hwb import hookimpl, BuildEnv, UsageError``, and from the
toolkit's modules (``hwb.wheelfile``, ``hwb.process``, ...), never from ``hwb_core``: the kernel's
modules are private and may change between releases; these names may not (docs/writing-plugins.md,
"The toolkit"). Names are looked up on first use, so importing ``hwb`` costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hwb_core import __version__ as __version__
    from hwb_core.hookspecs import hookimpl as hookimpl
    from hwb_core.hookspecs import hookspec as hookspec

#: Each public name and the module that holds it.
_NAMES: dict[str, str] = {
    "__version__": "hwb_core",
    "hookimpl": "hwb_core.hookspecs",
    "hookspec": "hwb_core.hookspecs",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'hwb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
