"""What the container isolations (``docker``, ``podman``) share: everything but the engine.

An :class:`~hwb_plugins.container.engine.Engine` names the engine and says how to reach it;
the rest is the same for both, parameterised by it:

- :mod:`.plugin`: the hooks' logic (the plugins' ``@hookimpl`` functions call it);
- :mod:`.settings`: the ``isolation.<engine>.*`` keys and flags;
- :mod:`.session`: one build from start to end, over :mod:`.images` (pull, Dockerfile builds),
  :mod:`.lifecycle` (the hardened container), :mod:`.interpreter` (the image's Python),
  :mod:`.wheelhouse` (build requirements downloaded on the host) and :mod:`.buildenv` (the
  ``BuildEnv``: ``exec`` in :mod:`.execution`; the core's PEP 517 driver runs in it as it
  runs on the host, through ``run_backend_process`` with paths made container paths);
- :mod:`.engine`: the Docker SDK, imported only when a build or a check needs it.

Its public face is the toolkit module :mod:`hwb.container`: the names an engine needs, which
``docker``, ``podman`` and third parties' engines import (docs/container-engines.md). The modules
here are private to it and change as it needs.

See ``docs/docker.md`` and ``docs/podman.md``.
"""
