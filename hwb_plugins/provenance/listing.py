"""List the distributions an interpreter sees: ``{"name", "version", "files_sha256"}`` each,
``files_sha256`` a digest of the hashed entries of its RECORD (less those outside
site-packages, bytecode and the installer's own files), sorted by name; and beside it, in
``interpreter.json``, the interpreter's executable and its sha256.

    python listing.py OUT_JSON          (or this file's text with ``python -c``)

It reads the ``*.dist-info`` and ``*.egg-info`` directories on ``sys.path`` itself, the first of
a name winning, as ``importlib.metadata.distributions()`` would see them: importing
``importlib.metadata`` costs three times as long as the listing. The core's driver calls
:func:`after_build` after ``build_wheel``, in the backend's own process (the
``after_build_scripts`` hook). It imports nothing from hwb (it runs under the build's
interpreter, 3.8 and newer).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys

_SKIPPED_ENDINGS = ("/INSTALLER", "/REQUESTED", "/direct_url.json", "/RECORD")


def _headers(path: str) -> dict[str, str]:
    """The lower-cased headers of a METADATA or PKG-INFO file (the first of each)."""
    found: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            for line in stream:
                if not line.strip():
                    break
                key, sep, value = line.partition(":")
                if sep and not key[:1].isspace():
                    found.setdefault(key.strip().lower(), value.strip())
    except OSError:
        pass
    return found


def _files_digest(info_dir: str) -> str:
    rows: list[str] = []
    try:
        with open(os.path.join(info_dir, "RECORD"), encoding="utf-8", newline="") as stream:
            records = list(csv.reader(stream))
    except OSError:
        records = []
    for record in records:
        if len(record) < 2 or not record[1]:
            continue
        path = record[0]
        if path.startswith("..") or "__pycache__" in path or path.endswith(_SKIPPED_ENDINGS):
            continue
        rows.append(path + "," + record[1])
    return hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest()


def listing(paths: list[str]) -> list[dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for entry in paths:
        directory = entry or "."
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for info in names:
            where = os.path.join(directory, info)
            if info.endswith(".dist-info"):
                meta = _headers(os.path.join(where, "METADATA"))
            elif info.endswith(".egg-info"):
                meta = _headers(os.path.join(where, "PKG-INFO") if os.path.isdir(where) else where)
            else:
                continue
            name = meta.get("name")
            if not name or name.lower() in found:
                continue
            found[name.lower()] = {
                "name": name,
                "version": meta.get("version", ""),
                "files_sha256": _files_digest(where),
            }
    return sorted(found.values(), key=lambda d: d["name"].lower())


def interpreter() -> dict[str, str]:
    """The running interpreter's executable (the file its links lead to) and its sha256."""
    path = os.path.realpath(sys.executable)
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return {"path": path, "sha256": digest.hexdigest()}


def write(out_json: str, paths: list[str]) -> None:
    """The listing in ``out_json``; the interpreter (:func:`interpreter`) in ``interpreter.json``
    beside it, when it can be read."""
    with open(out_json, "w", encoding="utf-8") as stream:
        json.dump(listing(paths), stream)
    try:
        found = interpreter()
    except OSError:
        return
    beside = os.path.join(os.path.dirname(os.path.abspath(out_json)), "interpreter.json")
    with open(beside, "w", encoding="utf-8") as stream:
        json.dump(found, stream)


after_build = write


if __name__ == "__main__":
    # Not the working directory (``-c`` puts it first): that is the project, not what is
    # installed.
    write(sys.argv[1], [entry for entry in sys.path if entry])
