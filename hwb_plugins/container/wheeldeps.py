"""What installing a built wheel pulls in: its ``Requires-Dist`` for the extras asked for, as
requirements the host's wheelhouse can download for an offline container."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.parser import HeaderParser
from pathlib import Path

from hwb import wheelfile


def dependencies(wheel: Path, extras: Sequence[str], marker_env: Mapping[str, str]) -> list[str]:
    """The wheel's requirements for ``extras``: those without an ``extra`` marker as written
    (the download evaluates their other markers for the container's interpreter), those of an
    extra asked for without their marker."""
    from packaging.markers import default_environment
    from packaging.requirements import InvalidRequirement, Requirement

    metadata = wheelfile.read(wheel, f"{wheelfile.dist_info(wheel)}/METADATA")
    headers = HeaderParser().parsestr(metadata.decode("utf-8", "replace"))
    environment = {str(k): str(v) for k, v in default_environment().items()}
    environment.update(marker_env)
    found: list[str] = []
    for text in headers.get_all("Requires-Dist") or []:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        marker = requirement.marker
        if marker is None or "extra" not in str(marker):
            found.append(str(requirement))
            continue
        if any(marker.evaluate({**environment, "extra": extra}) for extra in extras):
            requirement.marker = None
            found.append(str(requirement))
    return found
