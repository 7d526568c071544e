"""Resolving ``--python``: the finders' answer (the ``find_python`` hook), the error that names
what they found, and the version that stands in for an isolation bringing its own interpreter.

Asking an interpreter what it is belongs to the finders (the toolkit's ``hwb.pythons``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hwb_core.errors import PythonNotFound
from hwb_core.interfaces import PythonInfo, PythonSpec

if TYPE_CHECKING:
    from hwb_core.config import Config
    from hwb_core.plugins import PluginManager


def list_all(pm: PluginManager, config: Config) -> list[PythonInfo]:
    """Every interpreter every finder lists (``list_pythons``), each executable once."""
    seen: set[str] = set()
    found: list[PythonInfo] = []
    for result in pm.hook.list_pythons(config=config):
        for info in result or []:
            if info.path not in seen:
                seen.add(info.path)
                found.append(info)
    return found


def find(
    pm: PluginManager, config: Config, text: str | None, isolation: str | None = None
) -> PythonInfo:
    """Resolve ``--python`` (or, without it, the interpreter running hwb) by the finders. An
    ``isolation`` asked for by name that brings its own interpreters (a container's image)
    needs none on this machine: then the version asked for stands in (:func:`wanted`), and the
    environment finds its interpreter."""
    try:
        return _find(pm, config, text)
    except PythonNotFound:
        info = pm.isolations().get(isolation) if isolation and text else None
        stand_in = (
            wanted(text) if text and info is not None and info.capabilities.container else None
        )
        if stand_in is None:
            raise
        return stand_in


def _find(pm: PluginManager, config: Config, text: str | None) -> PythonInfo:
    spec = PythonSpec.parse(text) if text else PythonSpec.running()
    info = pm.hook.find_python(spec=spec, config=config)
    if info is not None:
        return info  # type: ignore[no-any-return]
    if spec.path is not None:
        what = f"--python {text}" if text else f"the interpreter running hwb ({spec.path})"
        raise PythonNotFound(
            f"no finder resolves {what}: no plugin that finds interpreters by path is loaded",
            hint="`hwb plugins` shows which plugins are blocked or failed (find_python)",
        )
    found = list_all(pm, config)
    ordered = sorted(found, key=lambda p: (p.implementation != "cpython", p.version_tuple))
    listed = ", ".join(dict.fromkeys(p.spec for p in ordered)) or "nothing"
    raise PythonNotFound(
        f"no Python matching {text!r} was found (found: {listed})",
        hint=f"install it with `uv python install {text}` or `pyenv install {text}`, or pass a path",
    )


def wanted(text: str) -> PythonInfo | None:
    """The interpreter ``--python`` names, described without one on this machine, for an
    isolation that brings its own (a container's ``/opt/python``): ``None`` when the text names
    no major.minor version (a path, ``3``)."""
    spec = PythonSpec.parse(text)
    if spec.path is not None or len(spec.version) < 2:
        return None
    major, minor = spec.version[:2]
    implementation = spec.implementation or "cpython"
    if implementation == "pypy":
        abi = f"pypy{major}{minor}_pp73"
    else:
        abi = f"cp{major}{minor}" + ("t" if spec.free_threaded else "")
    version = ".".join(str(p) for p in spec.version)
    return PythonInfo(
        path="",
        version=version,
        implementation=implementation,
        abi_tag=abi,
        source="asked",
        free_threaded=spec.free_threaded,
    )
