"""A node's protocol-v2 duties after a round finalizes: challenge a wrong result, sit on a
dispute committee, resolve an ended dispute, settle its own vote for the committee fee.

Every duty is decided from the chain on each poll, like the rest of the node:

* **challenge**: while round r's challenge window is open and nobody challenged it, a node
  whose own recomputation of r (the same one it builds its reward claim from) differs from the
  chain's (model, rewards root) bonds a challenge with its own result. Its recomputation uses
  the attempt's on-chain availability records (``ledger.availability``), so it never
  disagrees over what it could fetch: a counted update it cannot get stops the recomputation
  (the node retries on its next poll) instead of producing a result to bond.
* **dispute**: once challenged, anyone locks the dispute seed (a block after the challenge);
  a node holding dispute seats (and not in the challenged quorum) commits its recomputation and
  reveals it in the reveal window. After the window anyone resolves; for an overturn the
  winning result's preimage is read from the ``DisputeRevealed`` events.
* **fee**: with a non-zero committee fee, a node settles its own revealed vote once its round
  is settled (the fee is credited by pull, so the finalizing reveal costs what any reveal costs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from eth_utils import keccak

from ledger.cid import Cid
from ledger.committee import seats_in
from ledger.market_types import (
    DisputeInfo,
    DisputeState,
    MemberInfo,
    Phase,
    RoundState,
    VoteState,
    result_hash,
)

if TYPE_CHECKING:
    from node.runtime.participant import Participant

__all__ = ["DisputeDuties"]


class DisputeDuties:
    """The v2 duties of one participant (see the module docstring).

    ``on_checked(round)`` (optional) hears of each finalized round this node has checked: it
    recomputed it (agreeing or challenging), or found it already challenged.
    """

    def __init__(self, node: Participant) -> None:
        self.node = node
        self.challenged: list[int] = []
        self.dispute_votes: list[int] = []
        self._checked: set[int] = set()
        self.on_checked: Callable[[int], None] | None = None

    def _report_checked(self, round_: int) -> None:
        # Only once decided: a keeper that ended the window now must not pre-empt a challenge.
        if self.on_checked is not None:
            self.on_checked(round_)

    def _now(self) -> int:
        return self.node.read.timestamp  # the block time of this step's read

    def _salt(self, round_: int) -> bytes:
        return keccak(b"fedledger/dispute-salt" + self.node._salt(round_, 255))

    def step(self, state: RoundState, me: MemberInfo) -> str | None:
        """At most one duty now; None when there is none."""
        if state.phase == Phase.DISPUTED:
            return self._dispute(state.round - 1, me)
        window_open = (state.phase == Phase.PENDING and state.round > 1) or (
            state.phase == Phase.FINISHED and not self.node.market.ended(self.node.task))
        if window_open and self.node.challenges:
            done = self._challenge(state.round - 1)
            if done is not None:
                return done
        return self._settle_fee(state, me)

    def _challenge(self, round_: int) -> str | None:
        if round_ in self._checked:
            return None
        node, market = self.node, self.node.market
        if market.dispute(node.task, round_).state != DisputeState.NONE:
            self._checked.add(round_)
            self._report_checked(round_)
            return None
        entry = market.finalized_round(node.task, round_)
        outcome = node.outcome(round_, entry.parent, entry.attempt)
        self._checked.add(round_)
        if (outcome.model, outcome.rewards_root) == (entry.model, entry.rewards_root):
            self._report_checked(round_)
            return None
        if any("unavailable" in why for _, why in outcome.excluded):
            self._report_checked(round_)
            return (f"round {round_} finalized {entry.model}, this node computed "
                    f"{outcome.model} without every update: not challenging")
        node.store.put(outcome.model_bytes)  # the dispute committee must be able to fetch it
        market.challenge(node.task, round_, outcome.model, outcome.rewards_root,
                         sender=node.account)
        self.challenged.append(round_)
        self._report_checked(round_)
        return (f"challenged round {round_}: the chain says {entry.model}, this node "
                f"computed {outcome.model}")

    def _dispute(self, round_: int, me: MemberInfo) -> str | None:
        node, market = self.node, self.node.market
        info = market.dispute(node.task, round_)
        now = self._now()
        if info.state != DisputeState.OPEN:
            return None
        if now < info.commit_end:
            if info.seed == bytes(32):
                market.lock_dispute_seed(node.task, round_, sender=node.account)
                return f"locked the dispute seed of round {round_}"
            if me.dispute_round != round_ and self._dispute_seats(round_, info, me) > 0:
                return self._dispute_commit(round_)
            return None
        if now < info.reveal_end:
            if me.dispute_round == round_ and me.dispute_state == VoteState.COMMITTED:
                entry = market.finalized_round(node.task, round_)
                outcome = node.outcome(round_, entry.parent, entry.attempt)
                market.dispute_reveal(node.task, round_, outcome.model, outcome.rewards_root,
                                      self._salt(round_), sender=node.account)
                return f"revealed dispute vote on round {round_}"
            return None
        return self._resolve(round_, info)

    def _dispute_seats(self, round_: int, info: DisputeInfo, me: MemberInfo) -> int:
        node = self.node
        if me.vote_round == round_ and me.vote_state.revealed:
            entry = node.market.finalized_round(node.task, round_)
            mine = node.outcome(round_, entry.parent, entry.attempt)
            if (mine.model, mine.rewards_root) == (entry.model, entry.rewards_root) \
                    and me.vote_attempt == entry.attempt:
                return 0  # this node revealed the challenged result: excluded
        total = node.market.last_draw(node.task)[4]
        return seats_in(info.seed, node.view.params.dispute_size, total, me.stake_start, me.stake)

    def _dispute_commit(self, round_: int) -> str:
        node = self.node
        entry = node.market.finalized_round(node.task, round_)
        outcome = node.outcome(round_, entry.parent, entry.attempt)
        node.store.put(outcome.model_bytes)
        node.market.dispute_commit(node.task, round_, outcome.model, outcome.rewards_root,
                                   self._salt(round_), sender=node.account)
        self.dispute_votes.append(round_)
        return f"committed dispute vote on round {round_}: {outcome.model}"

    def _resolve(self, round_: int, info: DisputeInfo) -> str:
        node, market = self.node, self.node.market
        model, root = None, bytes(32)
        for event in market.contract.events("DisputeRevealed", task=node.task, round=round_):
            a = event["args"]
            candidate = Cid(int(a["modelCodec"]), bytes(a["modelDigest"]))
            if result_hash(candidate, bytes(a["rewardsRoot"])) == info.leader:
                model, root = candidate, bytes(a["rewardsRoot"])
                break
        market.resolve_dispute(node.task, round_, model, root, sender=node.account)
        return f"resolved the dispute of round {round_}"

    def _settle_fee(self, state: RoundState, me: MemberInfo) -> str | None:
        node = self.node
        if node.view.params.committee_fee == 0 or not me.vote_state.revealed:
            return None
        if me.vote_round >= state.round or not node.read.round_settled(me.vote_round):
            return None
        node.market.settle(node.task, node.account.address, sender=node.account)
        return f"settled its vote on round {me.vote_round}"
