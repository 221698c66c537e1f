"""A node's part in client sampling: draw the round's cohort, train only when drawn.

In a task with ``cohort_size`` K > 0 only K members train each round (``ledger.cohort``). The
cohort is drawn on chain by whoever calls ``drawCohort`` first in the round's train window:
every node calls it the moment it sees the window open with no seed, so a party hoping to wait
for a better block is front-run. Each node reads whether it was drawn with its state
(``nodeState``); a node left out sits the round out (it still attests, votes and claims).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.market_types import RoundState
from node.errors import NodeError

if TYPE_CHECKING:
    from node.runtime.participant import Participant

__all__ = ["Sampling"]


class Sampling:
    """The cohort steps of one node (``node.summary.sat_out`` lists the rounds it was not drawn)."""

    def __init__(self, node: Participant) -> None:
        self.node = node

    @property
    def size(self) -> int:
        """The task's cohort size (0: every member trains every round)."""
        return self.node.view.params.cohort_size

    def check_supported(self) -> None:
        """Refuse, before staking, a task this node cannot serve.

        Raises:
            NodeError: a secure task with a cohort (pairwise masks assume every member submits).
        """
        if self.size and self.node.view.manifest.privacy == "secure":
            raise NodeError(f"task {self.node.task} samples a cohort of {self.size} and is "
                            "secure: secure aggregation over a sampled cohort is not supported")

    def draw(self, state: RoundState, my_turn: bool) -> str | None:
        """Draw the round's cohort if nobody has yet (train window). Returns the action taken,
        "" while a peer earlier in line should (``node.runtime.seed_race``), None once drawn."""
        if self.size == 0 or state.cohort_seed != bytes(32):
            return None
        if not my_turn:
            return ""
        self.node.market.draw_cohort(self.node.task, sender=self.node.account)
        return f"drew the cohort of round {state.round}"

    def trains(self, state: RoundState, drawn: bool) -> bool:
        """Whether this node trains in ``state.round``: ``drawn`` is the chain's ``inCohort``
        read with ``state`` (the cohort is drawn: ``draw`` returned None)."""
        if self.size and not drawn and state.round not in self.node.summary.sat_out:
            self.node.summary.sat_out.append(state.round)
        return drawn
