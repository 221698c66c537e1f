"""One member's standing in one task, as ``fedledger node status`` shows it: stake, slashes,
submissions, committee seats and votes, fees and rewards claimed.

Everything comes from the chain: the ``member`` view (balance now) and the events naming the
account (``UpdateSubmitted``, ``Committed``/``Revealed``, ``Slashed``, ``FeeEarned``,
``RewardClaimed``), each filtered on its indexed address, plus the task's lineage for which
result each round finalized. What a member *could* still claim needs the round recomputed,
which is ``node``'s part (``node.runtime.status``); this module says which rounds to look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_utils import to_checksum_address

from ledger.lineage_types import TaskLineage, to_jsonable
from ledger.market import FedMarket
from ledger.market_types import MemberInfo
from ledger.units import format_amount

__all__ = ["MemberStatus", "RoundDuty", "member_status"]


@dataclass(frozen=True)
class RoundDuty:
    """What the member did in one finalized round.

    Attributes:
        round: the round.
        submitted: it submitted an update.
        seats: its seats in the finalizing attempt's committee (0: not drawn).
        committed: it committed in that attempt.
        revealed: it revealed in that attempt.
        agreed: its reveal equals the finalized (model, rewards root).
        claimed: reward claimed for the round (0 if none).
        settled: the round is payable (window closed, any dispute resolved).
    """

    round: int
    submitted: bool
    seats: int
    committed: bool
    revealed: bool
    agreed: bool
    claimed: int
    settled: bool


@dataclass(frozen=True)
class MemberStatus:
    """A member's standing (see the module docstring). Amounts in the task's smallest unit."""

    task: int
    account: str
    token: str
    member: MemberInfo
    rounds: tuple[RoundDuty, ...]
    submitted_rounds: tuple[int, ...]
    slashed: int
    fees: int
    claimed: int
    withdrawn: int
    extra: dict[str, Any] = field(default_factory=dict)  # node-side facts (claimable, model)

    def to_dict(self) -> dict[str, Any]:
        m, unit = self.member, self.token
        out = {
            "task": self.task, "account": self.account, "is_member": m.is_member,
            "stake": m.stake, "stake_text": format_amount(m.stake, unit),
            "balance": m.balance, "balance_text": format_amount(m.balance, unit),
            "slashed": self.slashed, "slashed_text": format_amount(self.slashed, unit),
            "fees": self.fees, "claimed": self.claimed,
            "claimed_text": format_amount(self.claimed, unit),
            "withdrawn": self.withdrawn, "withdrawn_text": format_amount(self.withdrawn, unit),
            "submitted_rounds": list(self.submitted_rounds),
            "seats": sum(r.seats for r in self.rounds),
            "votes": sum(r.revealed for r in self.rounds),
            "votes_agreeing": sum(r.agreed for r in self.rounds),
            "rounds": to_jsonable(list(self.rounds)),
        }
        out.update(self.extra)
        return out


def _amounts(market: FedMarket, name: str, task: int, from_block: int,
             **who: Any) -> dict[int, int]:
    totals: dict[int, int] = {}
    for e in market.contract.events(name, from_block, task=task, **who):
        r = int(e["args"].get("round", 0))
        totals[r] = totals.get(r, 0) + int(e["args"]["amount"])
    return totals


def member_status(market: FedMarket, lineage: TaskLineage, account: str, *,
                  from_block: int = 0) -> MemberStatus:
    """``account``'s standing in ``lineage.task``.

    Raises:
        RpcError: the chain cannot be reached.
    """
    account = to_checksum_address(account)
    task = lineage.task
    me = market.member(task, account)
    submitted = tuple(int(e["args"]["round"]) for e in market.contract.events(
        "UpdateSubmitted", from_block, task=task, participant=account))
    committed = {(int(e["args"]["round"]), int(e["args"]["attempt"]))
                 for e in market.contract.events("Committed", from_block, task=task,
                                                 member=account)}
    claimed = _amounts(market, "RewardClaimed", task, from_block, account=account)
    duties = []
    for r in lineage.rounds:
        record = r.record
        vote = next((v for v in r.votes if v.member == account and v.attempt == record.attempt),
                    None)
        duties.append(RoundDuty(
            round=r.round, submitted=r.round in submitted, seats=r.committee.count(account),
            committed=(r.round, record.attempt) in committed,
            revealed=vote is not None and vote.revealed,
            agreed=vote is not None and vote.agrees_with(record),
            claimed=claimed.get(r.round, 0), settled=market.round_settled(task, r.round)))
    withdrawn = sum(_amounts(market, "StakeWithdrawn", task, from_block,
                             participant=account).values())
    return MemberStatus(
        task=task, account=account, token=lineage.params.token, member=me,
        rounds=tuple(duties), submitted_rounds=submitted,
        slashed=sum(_amounts(market, "Slashed", task, from_block, member=account).values()),
        fees=sum(_amounts(market, "FeeEarned", task, from_block, member=account).values()),
        claimed=sum(claimed.values()), withdrawn=withdrawn)
