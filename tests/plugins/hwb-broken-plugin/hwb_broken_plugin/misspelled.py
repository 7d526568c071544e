"""A plugin whose hook name has a typo: hwb must refuse it loudly, not ignore it silently."""

from __future__ import annotations

from hwb import IsolationInfo, hookimpl


@hookimpl
def register_isolaton() -> IsolationInfo:  # sic: "register_isolation" is meant
    return IsolationInfo("misspelled", "never registered")
