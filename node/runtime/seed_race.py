"""Who sends a round's idempotent seed calls (``drawCohort``, ``lockSeed``) first.

Both calls are open to anyone and honest nodes make them the moment their window opens, so
a party waiting for a better block is front-run. When every node races, though, every one of
them sends the call in the same block and all but one are no-ops that still cost a
transaction. Nodes take turns instead: member i waits ``i % SLOTS`` x ``STAGGER_SECONDS`` of
wall time after it first saw the window open and the seed missing; the first in line sends at
once, and the block it lands in tells the others it is done. A silent first node costs the
seed at most that delay, far less than a block on a public chain.
"""

from __future__ import annotations

import time
from collections.abc import Hashable

__all__ = ["SLOTS", "STAGGER_SECONDS", "SeedRace"]

STAGGER_SECONDS = 0.05
SLOTS = 8


class SeedRace:
    """One node's place in line for each seed call it has seen open (see the module docstring)."""

    def __init__(self) -> None:
        self._opened: dict[Hashable, float] = {}

    def my_turn(self, call: Hashable, member_index: int) -> bool:
        """Whether this node, member ``member_index``, sends ``call`` now."""
        opened = self._opened.setdefault(call, time.monotonic())
        return time.monotonic() - opened >= STAGGER_SECONDS * (member_index % SLOTS)
