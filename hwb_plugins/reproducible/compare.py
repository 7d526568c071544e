"""Comparing two builds of one source, member by member (``--check-reproducible``)."""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile
from pathlib import Path
from typing import Any


@dataclasses.dataclass
class Comparison:
    """What ``--check-reproducible`` found: two builds of one source, member by member."""

    first: Path
    second: Path
    sha256: tuple[str, str]
    """The two wheels' digests (the second build's wheel is gone once compared)."""
    differences: list[dict[str, str]]
    """``{"member": name, "what": "content" | "timestamp" | "permissions" | "only in the
    first build" | ...}``."""
    source_date_epoch: int | None = None

    @property
    def identical(self) -> bool:
        return not self.differences and self.sha256[0] == self.sha256[1]

    def members(self) -> list[str]:
        return list(dict.fromkeys(d["member"] for d in self.differences))

    def to_json(self) -> dict[str, Any]:
        return {
            "identical": self.identical,
            "sha256": list(self.sha256),
            "differences": list(self.differences),
            "source_date_epoch": self.source_date_epoch,
        }

    def describe(self) -> str:
        if self.identical:
            return (
                f"reproducible: a second build gave the same bytes (sha256 {_sha256(self.first)})"
            )
        named = ", ".join(f"{d['member']} ({d['what']})" for d in self.differences[:10])
        more = f" and {len(self.differences) - 10} more" if len(self.differences) > 10 else ""
        return f"not reproducible: a second build differs in {named or 'the archive'}{more}"


def compare(first: Path, second: Path, epoch: int | None = None) -> Comparison:
    differences: list[dict[str, str]] = []
    if first.name != second.name:
        differences.append({"member": "(file name)", "what": f"{first.name} vs {second.name}"})
    with zipfile.ZipFile(first) as one, zipfile.ZipFile(second) as two:
        a = {info.filename: info for info in one.infolist()}
        b = {info.filename: info for info in two.infolist()}
        for name in a.keys() - b.keys():
            differences.append({"member": name, "what": "only in the first build"})
        for name in b.keys() - a.keys():
            differences.append({"member": name, "what": "only in the second build"})
        for name in [n for n in a if n in b]:
            left, right = a[name], b[name]
            if one.read(left) != two.read(right):
                differences.append({"member": name, "what": "content"})
            if left.date_time != right.date_time:
                differences.append({"member": name, "what": "timestamp"})
            if left.external_attr != right.external_attr:
                differences.append({"member": name, "what": "permissions"})
            if left.compress_type != right.compress_type:
                differences.append({"member": name, "what": "compression"})
        if not differences and list(a) != list(b):
            differences.append({"member": "(archive)", "what": "member order"})
    # RECORD holds every member's hash: it differs whenever another does, so it comes last.
    differences.sort(
        key=lambda d: (d["member"].endswith(".dist-info/RECORD"), d["member"], d["what"])
    )
    return Comparison(first, second, (_sha256(first), _sha256(second)), differences, epoch)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
