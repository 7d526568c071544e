"""Write a SHA-256 checksum file beside every wheel hwb publishes."""

from __future__ import annotations

import hashlib

from hwb import BuildResult, Reporter, hookimpl


@hookimpl
def wheel_built(result: BuildResult, reporter: Reporter) -> None:
    digest = hashlib.sha256(result.path.read_bytes()).hexdigest()
    checksum = result.path.with_name(result.path.name + ".sha256")
    checksum.write_text(f"{digest}  {result.path.name}\n", encoding="utf-8")
    reporter.info(f"wrote {checksum}")
