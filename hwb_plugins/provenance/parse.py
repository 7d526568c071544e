"""Reading a provenance record strictly: a DSSE envelope or a bare in-toto statement, with every
field ``hwb verify`` relies on present and of its type. Anything else is :class:`Malformed`, a
usage error (exit code 2) that names the field: a record that lacks what it needs never
verifies."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hwb import UsageError
from hwb_plugins.provenance.record import PREDICATE, STATEMENT
from hwb_plugins.provenance.signing import PAYLOAD_TYPE

SHA256 = re.compile(r"[0-9a-f]{64}")


class Malformed(UsageError):
    """A record that is not what hwb writes."""


@dataclass
class Record:
    where: str
    envelope: dict[str, Any] | None
    """The DSSE envelope; ``None`` for an unsigned record (a bare statement)."""
    body: bytes
    """The envelope's payload, decoded: what was signed."""
    bare: dict[str, Any] | None = None

    def statement(self) -> dict[str, Any]:
        """The statement, checked: the bare one, or the envelope's payload (parsed only now,
        once its signature was checked when there is a key to check it with)."""
        if self.bare is not None:
            return self.bare
        where = f"{self.where} (its payload)"
        try:
            statement = json.loads(self.body)
        except (ValueError, RecursionError) as exc:
            raise Malformed(f"{where} is not JSON ({exc})") from None
        check(where, statement)
        return dict(statement)


def read(path: Path, document: Any) -> Record:
    """The record in ``document`` (``path``'s parsed JSON): an envelope's fields are checked
    (its payload is not parsed yet), a bare statement's all."""
    where = f"record {path}"
    if isinstance(document, dict) and "payloadType" in document:
        envelope = _envelope(where, document)
        return Record(where, envelope, base64.b64decode(envelope["payload"], validate=True))
    check(where, document)
    return Record(where, None, b"", document)


def _base64(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _envelope(where: str, envelope: dict[str, Any]) -> dict[str, Any]:
    if envelope["payloadType"] != PAYLOAD_TYPE:
        raise Malformed(
            f"{where}: the envelope's payloadType is {envelope['payloadType']!r}, "
            f"not {PAYLOAD_TYPE!r}"
        )
    if not _base64(envelope.get("payload")):
        raise Malformed(f"{where}: the envelope's payload is not base64 text")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise Malformed(f"{where}: the envelope has no signatures list")
    for entry in signatures:
        if not isinstance(entry, dict) or not _base64(entry.get("sig")):
            raise Malformed(f"{where}: an envelope signature is not {{keyid, sig: base64}}")
        if not isinstance(entry.get("keyid", ""), str):
            raise Malformed(f"{where}: an envelope signature's keyid is not a string")
    return envelope


def _table(where: str, value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        found = "missing" if value is None else f"a {type(value).__name__}, not an object"
        raise Malformed(f"{where}: {field} is {found}")
    return value


def _text(where: str, value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise Malformed(f"{where}: {field} is {'missing' if value is None else 'not a string'}")
    return value


def _descriptors(where: str, value: Any, field: str) -> None:
    """A list of ResourceDescriptors: objects, each with string name/uri, string digests, base64
    content, and (SLSA v1's MUST) at least one of ``uri``, ``digest``, ``content``."""
    if value is None:
        return
    if not isinstance(value, list):
        raise Malformed(f"{where}: {field} is a {type(value).__name__}, not a list")
    for number, item in enumerate(value):
        at = f"{field}[{number}]"
        _table(where, item, at)
        for name in ("name", "uri", "mediaType", "downloadLocation"):
            if name in item and not isinstance(item[name], str):
                raise Malformed(f"{where}: {at}.{name} is not a string")
        if "digest" in item:
            _digest(where, item["digest"], f"{at}.digest")
        if "content" in item and not _base64(item["content"]):
            raise Malformed(f"{where}: {at}.content is not base64 text")
        if not (item.get("uri") or item.get("digest") or item.get("content")):
            raise Malformed(
                f"{where}: {at} has none of uri, digest, content (a ResourceDescriptor needs one)"
            )
        if "annotations" in item:
            _table(where, item["annotations"], f"{at}.annotations")


def _digest(where: str, value: Any, field: str) -> dict[str, str]:
    digest = _table(where, value, field)
    for algorithm, hex_value in digest.items():
        if not isinstance(hex_value, str):
            raise Malformed(f"{where}: {field}.{algorithm} is not a string")
    sha256 = digest.get("sha256")
    if sha256 is not None and not SHA256.fullmatch(sha256):
        raise Malformed(f"{where}: {field}.sha256 is not 64 lowercase hex digits")
    return digest


def check(where: str, statement: Any) -> None:
    """Raise :class:`Malformed` unless ``statement`` is an in-toto statement v1 of one subject
    with a sha256 and a SLSA provenance v1 predicate (buildDefinition, runDetails.builder.id)."""
    _table(where, statement, "the statement")
    if statement.get("_type") != STATEMENT:
        raise Malformed(
            f"{where} is not an in-toto statement (_type {statement.get('_type')!r}, "
            f"not {STATEMENT!r})"
        )
    if statement.get("predicateType") != PREDICATE:
        raise Malformed(
            f"{where} has predicateType {statement.get('predicateType')!r}, not SLSA "
            f"provenance ({PREDICATE})"
        )
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or len(subjects) != 1:
        found = f"{len(subjects)} subjects" if isinstance(subjects, list) else "no list of subjects"
        raise Malformed(f"{where} has {found}; an hwb record has one, its wheel")
    subject = _table(where, subjects[0], "subject[0]")
    _text(where, subject.get("name"), "subject[0].name")
    digest = _digest(where, subject.get("digest"), "subject[0].digest")
    if "sha256" not in digest:
        raise Malformed(f"{where}: subject[0].digest has no sha256 (it has {sorted(digest)})")
    predicate = _table(where, statement.get("predicate"), "predicate")
    build = _table(where, predicate.get("buildDefinition"), "predicate.buildDefinition")
    _text(where, build.get("buildType"), "predicate.buildDefinition.buildType")
    _table(where, build.get("externalParameters"), "predicate.buildDefinition.externalParameters")
    if "internalParameters" in build:
        _table(where, build["internalParameters"], "predicate.buildDefinition.internalParameters")
    _descriptors(
        where, build.get("resolvedDependencies"), "predicate.buildDefinition.resolvedDependencies"
    )
    run = _table(where, predicate.get("runDetails"), "predicate.runDetails")
    builder = _table(where, run.get("builder"), "predicate.runDetails.builder")
    _text(where, builder.get("id"), "predicate.runDetails.builder.id")
    if "metadata" in run:
        _table(where, run["metadata"], "predicate.runDetails.metadata")
    _descriptors(where, run.get("byproducts"), "predicate.runDetails.byproducts")
