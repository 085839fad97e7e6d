"""How soon to act on a vulnerability: the SSVC deployer outcome, shared by triage and patching.

Its own module because both ``advisories`` (which imports ``site``) and ``patching`` (which
``site`` imports) use it; defined in either, the other would import in a cycle.
"""

from __future__ import annotations

from enum import StrEnum


class Priority(StrEnum):
    """SSVC deployer outcome (``ssvc:DSOI:1.0.0``), lowest first."""

    DEFER = "defer"
    SCHEDULED = "scheduled"
    OUT_OF_CYCLE = "out-of-cycle"
    IMMEDIATE = "immediate"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def weight(self) -> int:
        """Risk weight per day of waiting (patch planning); doubles with each step of urgency."""
        return 1 << _RANK[self]


_RANK = {p: i for i, p in enumerate(Priority)}

__all__ = ["Priority"]
