"""The hook of the ``cache-command`` plugin, added with ``add_hookspecs``: what other plugins
keep in hwb's cache directory. Implement it with ``@hookimpl(optionalhook=True)``, so that
blocking ``cache-command`` leaves the implementation idle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hwb import hookspec

if TYPE_CHECKING:
    from hwb.cache import CacheArea


@hookspec
def cache_areas() -> Sequence[CacheArea] | None:
    """What this plugin keeps in hwb's cache directory, for ``hwb cache list`` and ``hwb cache
    clear``: each :class:`~hwb.cache.CacheArea` lists its entries and removes them (the venv
    isolation's cached environments, the container isolations' wheelhouse).

    **Called** by ``hwb cache`` only; an area of a name already given is left out (the docker
    and podman plugins share one wheelhouse).

    **Returns** a list of :class:`~hwb.cache.CacheArea`, or ``None``.

    **Combining**: all results are collected, in call order; the first area of each name kept.

    .. versionadded:: 0.1
    .. versionchanged:: 0.4 declared by the ``cache-command`` plugin (was the core's).
    """
