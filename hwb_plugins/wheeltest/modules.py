"""The import check: which modules of a wheel to import, the script that imports them in the
fresh environment, and reading its failures back."""

from __future__ import annotations

from collections.abc import Iterable

#: Suffixes of extension modules (``mod.cpython-312-x86_64-linux-gnu.so``, ``mod.abi3.so``,
#: ``mod.pyd``): the module's name is what comes before the first dot.
_EXTENSION_SUFFIXES = (".so", ".pyd")

#: Runs in the fresh environment with ``python -I`` (no current directory, no PYTHONPATH on
#: ``sys.path``): imports each module named, says which failed and why, exits 1 if any did.
IMPORT_SCRIPT = """
import importlib, sys
failed = 0
for name in sys.argv[1:]:
    try:
        module = importlib.import_module(name)
    except BaseException as exc:
        failed += 1
        text = str(exc).replace(chr(10), " ")
        print("cannot import %s: %s: %s" % (name, type(exc).__name__, text), flush=True)
    else:
        print("imported %s from %s" % (name, getattr(module, "__file__", None)), flush=True)
sys.exit(1 if failed else 0)
"""


def importable(members: Iterable[str]) -> list[str]:
    """The modules to import: every top-level package and module of the wheel, then every
    extension module inside packages (an import of the package alone may not load them)."""
    top: list[str] = []
    extensions: list[str] = []
    for member in members:
        parts = member.split("/")
        if parts[0].endswith((".dist-info", ".data")) or not parts[-1]:
            continue
        name = _module_name(parts[-1])
        if len(parts) == 1:
            if name is not None and parts[0].endswith((".py", *_EXTENSION_SUFFIXES)):
                _add(top, name)
            continue
        if not parts[0].isidentifier():  # hello.libs/: libraries a repairer bundled
            continue
        _add(top, parts[0])
        if name is not None and parts[-1].endswith(_EXTENSION_SUFFIXES):
            dotted = [*parts[:-1], name]
            if all(p.isidentifier() for p in dotted):
                _add(extensions, ".".join(dotted))
    return top + [e for e in extensions if e not in top]


def _module_name(filename: str) -> str | None:
    stem = filename.split(".", 1)[0]
    return stem if stem.isidentifier() and stem != "__init__" else None


def _add(names: list[str], name: str) -> None:
    if name not in names:
        names.append(name)


def failures(output: str) -> str:
    """The import check's failures, on one line: ``hello (ImportError: libfoo.so: ...)``."""
    found = []
    for line in output.splitlines():
        if line.startswith("cannot import "):
            name, _, why = line[len("cannot import ") :].partition(": ")
            found.append(f"{name} ({why})")
    return "; ".join(found) or "the interpreter failed (see the output below)"
