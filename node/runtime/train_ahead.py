"""Train the next round while the chain finishes this one.

A round's training window opens only once the previous round finalized and its challenge
window closed; training then sits on the round's critical path. But an update is a
deterministic function of its parent model, the node's data and the task seed, and every node
already computes each round's result itself (to check the committee and to prove its claims).
So a node with nothing else to do in the commit or reveal window computes that result, trains
the next round on it, and keeps the update; in a challenge window (once it checked the round)
it trains on the finalized model, and in the join window round 1 on the genesis model (which
also pays torch's first-call warm-up before the clock starts). When the
round opens on the parent it guessed (the quorum agreed with it) the update goes out at once;
on any other parent it is dropped and the node trains as usual. Nothing is sent early, so the
chain sees exactly what it would have.

Open tasks only, every member training: with differential privacy or secure aggregation an
update needs per-round secrets and peers, and in a sampled task most guesses would be wasted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.cid import Cid
from ledger.market_types import Phase, RoundState
from node.learning.task import client_update_bytes

if TYPE_CHECKING:
    from node.runtime.participant import Participant

__all__ = ["TrainAhead"]


class TrainAhead:
    """One node's update trained ahead of its round (at most one kept)."""

    def __init__(self, node: Participant) -> None:
        self.node = node
        self._kept: tuple[int, Cid, bytes, int] | None = None  # round, parent, update, samples
        self.used: list[int] = []  # rounds whose update was ready when their window opened

    def _applies(self) -> bool:
        view = self.node.view
        return (view.manifest.dp is None and view.manifest.privacy != "secure"
                and view.params.cohort_size == 0)

    def update(self, round_: int, parent: Cid, parent_bytes: bytes) -> tuple[bytes, int]:
        """The round's update and sample count: the one trained ahead if it was trained on
        ``parent``, else trained now."""
        kept, self._kept = self._kept, None
        if kept is not None and kept[:2] == (round_, parent):
            self.used.append(round_)
            return kept[2], kept[3]
        node = self.node
        return client_update_bytes(node.view.manifest, parent_bytes, node.data, node.client_id,
                                   round_)

    def step(self, state: RoundState, last_submitted: int) -> str | None:
        """Train the next round now if it is time to guess; the action taken, or None."""
        if not self._applies():
            return None
        if state.phase == Phase.PENDING and state.parent is not None:
            # Joining (round 1 on the genesis model) or a challenge window: the parent is known.
            round_, parent, parent_bytes = state.round, state.parent, None
        elif state.phase in (Phase.COMMIT, Phase.REVEAL) and state.parent is not None \
                and state.round < self.node.view.params.rounds \
                and state.submissions >= self.node.view.params.min_submissions:
            # Our own result of this attempt: the parent of the next round if the quorum agrees.
            result = self.node.outcome(state.round, state.parent, state.attempt)
            round_, parent, parent_bytes = state.round + 1, result.model, result.model_bytes
        else:
            return None
        if last_submitted >= round_ or (self._kept is not None and self._kept[:2] == (round_, parent)):
            return None
        if parent_bytes is None:
            parent_bytes = self.node.fetch(parent)
        node = self.node
        payload, samples = client_update_bytes(node.view.manifest, parent_bytes, node.data,
                                               node.client_id, round_)
        self._kept = (round_, parent, payload, samples)
        return f"trained round {round_} ahead on parent {parent}"
