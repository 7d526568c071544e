"""What the container isolations (``docker``, ``podman``) share: everything but the engine.

An :class:`~hwb_plugins.container.engine.Engine` names the engine and says how to reach it;
the rest is the same for both, parameterised by it:

- :mod:`.plugin`: the hooks' logic (the plugins' ``@hookimpl`` functions call it);
- :mod:`.settings`: the ``isolation.<engine>.*`` keys and flags;
- :mod:`.session`: one build from start to end, over :mod:`.images` (pull, Dockerfile builds),
  :mod:`.lifecycle` (the hardened container), :mod:`.interpreter` (the image's Python),
  :mod:`.wheelhouse` (build requirements downloaded on the host) and :mod:`.buildenv` (the
  ``BuildEnv``: ``exec`` in :mod:`.execution`, PEP 517 hook calls in :mod:`.pep517`);
- :mod:`.engine`: the Docker SDK, imported only when a build or a check needs it.

See ``docs/docker.md`` and ``docs/podman.md``.
"""
