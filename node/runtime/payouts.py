"""A node's payouts: claim each settled round's reward, then withdraw its stake.

Both are decided from the chain on each poll, like the rest of the node:

* **claim**: rounds in order; a round is claimed only once it is settled (its challenge
  window closed, any dispute resolved), with the Merkle proof of the node's own recomputation.
  A round whose finalized rewards root differs from that recomputation (the quorum disagreed),
  where the node earned nothing, or that it already claimed (a restart) is decided without a
  transaction. A claim refused because the claim window closed is recorded as forfeited
  rather than retried forever.
* **withdraw**: once the task ended and every finalized round's claim is decided. `step`
  reads the chain several times per poll, so a round can look unsettled to the claim and the
  task ended to the next read (the clock moved in between): withdrawing and exiting then
  would leave that round's reward unclaimed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.chain.errors import ContractCustomError

if TYPE_CHECKING:
    from node.runtime.participant import Participant

__all__ = ["Payouts"]


class Payouts:
    """The claims and the withdrawal of one participant (see the module docstring)."""

    def __init__(self, node: Participant) -> None:
        self.node = node
        self.drained = False  # settling the last votes took the whole balance

    def claim(self, finalized_rounds: int) -> str | None:
        """Claim the first settled, unclaimed round's reward; None when there is none now."""
        node, market, summary = self.node, self.node.market, self.node.summary
        me = node.account.address
        for round_ in range(1, finalized_rounds + 1):
            if round_ in summary.claimed:
                continue
            if not node.read.round_settled(round_):
                return None  # its window is open or its dispute unresolved: nothing is payable
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
            try:
                market.claim(node.task, round_, me, amount, tree.proof(me), sender=node.account)
            except ContractCustomError as err:
                if err.error_name != "FedMarketClaimsClosed":
                    raise
                summary.claimed[round_] = 0  # came back too late: the requester swept it
                return f"round {round_}'s claim window closed before this node claimed {amount}"
            summary.claimed[round_] = amount
            return f"claimed {amount} for round {round_}"
        return None

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
