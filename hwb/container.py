"""Writing a container engine: what a container isolation for another engine needs, and no more.

hwb's container isolations (``docker``, ``podman``) are one library parameterised by an
:class:`Engine`: the hardened offline container, the wheelhouse, the prepared environments,
one container per image in ``hwb matrix``, the ``hwb cache`` areas, ``--timeout`` and Ctrl-C
are the library's; the engine only says how to reach a Docker-Engine-API-compatible endpoint.
The built-in isolations import these names from here, as a third party's engine does, and
they keep their meaning and import path from one release to the next
(docs/container-engines.md). The library behind them (``hwb_plugins.container``) is not part
of the promise.

Nothing here imports the Docker SDK: :func:`sdk`, :func:`session`, :func:`ping` and
:func:`open_client` import it when a build or a check calls them.
"""

from __future__ import annotations

from hwb_plugins.container.engine import (
    BUILD_TIMEOUT,
    PING_TIMEOUT,
    Endpoint,
    Engine,
    is_local,
    open_client,
    ping,
    sdk,
    session,
)
from hwb_plugins.container.errors import EngineUnavailable
from hwb_plugins.container.plugin import ContainerPlugin

__all__ = [
    "BUILD_TIMEOUT",
    "PING_TIMEOUT",
    "ContainerPlugin",
    "Endpoint",
    "Engine",
    "EngineUnavailable",
    "is_local",
    "open_client",
    "ping",
    "sdk",
    "session",
]
