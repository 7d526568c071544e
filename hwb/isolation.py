"""Isolation strategies by what they declare: the kernel's order of preference, and the
strategies that build another Linux architecture (``--isolation auto``, ``hwb matrix``)."""

from __future__ import annotations

from collections.abc import Sequence

from hwb_core.interfaces import IsolationInfo
from hwb_core.isolation import choose, ordered

__all__ = ["choose", "for_foreign_arch", "ordered"]


def for_foreign_arch(strategies: Sequence[IsolationInfo], arch: str) -> list[IsolationInfo]:
    """The strategies that build Linux wheels of ``arch`` when this machine runs another
    architecture: they declare it, emulate it, and take a target platform."""
    return [
        info
        for info in strategies
        if info.capabilities.target_key
        and info.capabilities.emulation
        and arch in info.capabilities.architectures
    ]
