"""The build's time limit (``--timeout``), as a plugin sees it: how long is left, and the error
to raise when a step of its own outlives it. :func:`hwb.process.run` applies it already."""

from __future__ import annotations

from hwb_core.deadline import expired as expired
from hwb_core.deadline import remaining as remaining
from hwb_core.deadline import seconds as seconds

__all__ = ["expired", "remaining", "seconds"]
