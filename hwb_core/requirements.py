"""Build requirements in one spelling, for keys of what was installed or downloaded for them
(cached environments, the containers' wheelhouse)."""

from __future__ import annotations

from collections.abc import Iterable


def normalize(text: str) -> str:
    """As ``packaging.requirements`` writes a requirement, the name canonical (PEP 503),
    whitespace removed (``Hatchling >= 1.0`` is ``hatchling>=1.0``); text that is no
    requirement is kept as it is (the installer reports it)."""
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
