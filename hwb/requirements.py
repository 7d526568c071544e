"""Build requirements in one spelling, for keys of what was installed or downloaded for them
(cached environments, the containers' wheelhouse)."""

from __future__ import annotations

import re
from collections.abc import Iterable

#: The start of every requirement: the project's name (PEP 508).
_NAME = re.compile(r"[ \t]*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def canonical_name(name: str) -> str:
    """PEP 503's normalized name. ``packaging.utils.canonicalize_name`` is this rule; importing
    it (with ``packaging.tags``) would cost more than the rest of this module's work."""
    return re.sub(r"[-_.]+", "-", name).lower()


def normalize(text: str) -> str:
    """As ``packaging.requirements`` writes a requirement, the name canonical (PEP 503),
    whitespace removed (``Hatchling >= 1.0`` is ``hatchling>=1.0``); text that is no
    requirement is kept as it is (the installer reports it)."""
    match = _NAME.match(text)
    if match and not text[match.end() :].strip(" \t"):
        # A name alone (the common case) is written as its canonical name: no parser to
        # import (0.01 s of every start).
        return canonical_name(match.group(1))
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return text.strip()
    rest = str(requirement)[len(requirement.name) :]
    return canonicalize_name(requirement.name) + "".join(rest.split())


def normalize_all(requirements: Iterable[str]) -> list[str]:
    """Sorted and de-duplicated, each in one spelling. Only a key: what the installer gets is
    left as written."""
    return sorted({normalize(text) for text in requirements})


def name_of(text: str) -> str:
    """The project a requirement names, canonical (PEP 503): ``"scikit-build-core>=0.9"`` is
    ``"scikit-build-core"``; ``""`` when the text does not start with a name."""
    match = _NAME.match(text)
    return canonical_name(match.group(1)) if match else ""


def from_index_only(text: str) -> bool:
    """True when ``text`` is a requirement an installer can only satisfy from an index: a name,
    with extras, versions and markers. A direct reference (``name @ URL``), a path, a VCS URL,
    an installer option (``-e DIR``, ``--index-url ...``) or anything else would make the
    installer read or build something the requirement points at."""
    if text.lstrip().startswith("-"):
        return False
    match = _NAME.match(text)
    if match and not text[match.end() :].strip(" \t"):
        # A bare name that an installer would take for a local archive (``x.tar.gz``).
        return not match.group(1).lower().endswith((".whl", ".zip", ".tar", ".gz", ".bz2", ".xz"))
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(text).url is None
    except InvalidRequirement:
        return False
