"""A node's payouts: claim each settled round's reward, then withdraw its stake.

Both are decided from the chain on each poll, like the rest of the node:

* **claim**: rounds in order; a round is claimable only once it is settled (its challenge
  window closed, any dispute resolved), with the Merkle proof of the node's own recomputation.
  A round whose finalized rewards root differs from that recomputation (the quorum disagreed),
  where the node earned nothing, or that it already claimed (a restart) is decided without a
  transaction. Claimable rounds are paid in batches (``claimRounds``: one transaction, one
  payment) of ``claim_every`` rounds, and whatever is left once the task ended: a transaction
  per round per node was a quarter of a round's blocks. The rewards wait in the contract's
  escrow meanwhile, claimable by anyone on the node's behalf until the claim deadline, which
  only starts at the task's end. A batch refused because someone claimed one of its rounds for
  us is trimmed and sent again; one refused because the claim window closed is recorded as
  forfeited rather than retried forever.
* **withdraw**: once the task ended and every finalized round's claim is decided. `step`
  reads the chain several times per poll, so a round can look unsettled to the claim and the
  task ended to the next read (the clock moved in between): withdrawing and exiting then
  would leave that round's reward unclaimed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.chain.errors import ContractCustomError
from ledger.market_types import Phase

if TYPE_CHECKING:
    from node.runtime.participant import Participant

__all__ = ["CLAIM_EVERY", "Payouts"]

CLAIM_EVERY = 10  # rounds per batch claim while the task runs

_TERMINAL = (Phase.FINISHED, Phase.CLOSED, Phase.CANCELLED)


class Payouts:
    """The claims and the withdrawal of one participant (see the module docstring).

    Args:
        node: the participant.
        claim_every: claim once this many rounds are claimable (1: every round at once);
            the rest is claimed when the task ends.
    """

    def __init__(self, node: Participant, *, claim_every: int = CLAIM_EVERY) -> None:
        self.node = node
        self.claim_every = max(1, claim_every)
        self.drained = False  # settling the last votes took the whole balance
        self._ready: dict[int, tuple[int, list[bytes]]] = {}  # round -> (amount, proof)

    def claim(self, finalized_rounds: int) -> str | None:
        """Decide each newly settled round; claim the ready ones once a batch is due. None when
        there is nothing to send now."""
        self._decide(finalized_rounds)
        if not self._ready or not self._due(finalized_rounds):
            return None
        node, market, summary = self.node, self.node.market, self.node.summary
        me = node.account.address
        batch = sorted(self._ready.items())
        try:
            if len(batch) == 1:
                [(round_, (amount, proof))] = batch
                market.claim(node.task, round_, me, amount, proof, sender=node.account)
            else:
                market.claim_rounds(node.task, me, [(r, a, p) for r, (a, p) in batch],
                                    sender=node.account)
        except ContractCustomError as err:
            if err.error_name == "FedMarketAlreadyClaimed":
                # Anyone may claim for us (we are paid all the same): drop those, send the rest.
                for round_, (amount, _) in batch:
                    if market.claimed(node.task, round_, me):
                        summary.claimed[round_] = amount
                        del self._ready[round_]
                return f"rounds claimed on this node's behalf meanwhile: {err}"
            if err.error_name != "FedMarketClaimsClosed":
                raise
            for round_, _ in batch:
                summary.claimed[round_] = 0  # came back too late: the requester swept it
            self._ready.clear()
            return f"the claim window closed before this node claimed rounds {_span(batch)}"
        total = 0
        for round_, (amount, _) in batch:
            summary.claimed[round_] = amount
            total += amount
        self._ready.clear()
        return f"claimed {total} for round{'s' if len(batch) > 1 else ''} {_span(batch)}"

    def _decide(self, finalized_rounds: int) -> None:
        """Settled rounds, in order, once each: nothing to claim, or ready with a proof."""
        node, market, summary = self.node, self.node.market, self.node.summary
        me = node.account.address
        for round_ in range(1, finalized_rounds + 1):
            if round_ in summary.claimed or round_ in self._ready:
                continue
            if not node.read.round_settled(round_):
                return  # its window is open or its dispute unresolved: nothing is payable
            entry = market.finalized_round(node.task, round_)
            outcome = node.outcome(round_, entry.parent, entry.attempt)
            amount = outcome.amount_of(me)
            if outcome.rewards_root != entry.rewards_root:
                summary.claimed[round_] = 0  # the quorum disagreed with us: nothing to prove
                continue
            if amount == 0 or market.claimed(node.task, round_, me):
                summary.claimed[round_] = amount
                continue
            tree = outcome.tree()
            assert tree is not None
            self._ready[round_] = (amount, tree.proof(me))

    def _due(self, finalized_rounds: int) -> bool:
        if len(self._ready) >= self.claim_every:
            return True
        # The task is over: claim what is left once its last round settled (one batch).
        read = self.node.read
        return read.state.phase in _TERMINAL and (
            finalized_rounds == 0 or read.round_settled(finalized_rounds))

    def decided(self, finalized_rounds: int) -> bool:
        """Whether every finalized round's claim was made or found to be nothing."""
        return all(r in self.node.summary.claimed for r in range(1, finalized_rounds + 1))

    def withdraw(self) -> str:
        """Withdraw stake, fees and bonds (the task ended)."""
        node = self.node
        try:
            receipt = node.market.withdraw_stake(node.task, sender=node.account)
        except ContractCustomError as err:
            if err.error_name != "FedMarketNothingToPay":
                raise
            # The balance shown was before our last votes were settled: they took it all.
            self.drained = True
            return "nothing to withdraw: settling this node's last votes took its whole balance"
        [event] = node.market.events_in(receipt, "StakeWithdrawn")
        node.summary.withdrawn = int(event["args"]["amount"])
        return f"withdrew {node.summary.withdrawn} (stake, fees and bonds, less slashes)"


def _span(batch: list[tuple[int, tuple[int, list[bytes]]]]) -> str:
    rounds = [r for r, _ in batch]
    if len(rounds) > 2 and rounds == list(range(rounds[0], rounds[-1] + 1)):
        return f"{rounds[0]}..{rounds[-1]}"
    return ", ".join(map(str, rounds))
