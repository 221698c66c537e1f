"""A committee member's availability duty, and the counted set every computation uses.

In the attest window of an attempt (``ledger.availability``), a node holding seats fetches
every update of the round from its own IPFS node (which asks its peers by bitswap), verifies
each against its CID (the store does), pins what it got, and posts the bitmap of what it holds.
It never waits for one update longer than the store's timeout, and an update it could not get
is simply not in its bitmap: whether the update counts is the committee's joint fact, read
back from the chain by ``ledger.availability.not_counted`` when the node (or a dispute member, or an auditor)
computes the round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.availability import attest, encode_held
from ledger.errors import LedgerError
from ledger.market_types import RoundState, Update

if TYPE_CHECKING:
    from node.runtime.participant import Participant

__all__ = ["Holdings"]


class Holdings:
    """Fetch, verify, pin and attest: one participant's availability duty."""

    def __init__(self, node: Participant, *, keep_rounds: int | None = None) -> None:
        self.node = node
        self.keep_rounds = keep_rounds
        self.attested: list[tuple[int, int]] = []
        self.missing: dict[tuple[int, int], dict[int, str]] = {}
        self.released = 0  # rounds whose artifacts this node unpinned

    def release(self, finalized: int) -> str | None:
        """Unpin the updates and model of every round older than the last ``keep_rounds``
        finalized ones (None: keep everything). Unpinning is idempotent, so a restarted node
        just repeats it; the last finalized model is never released."""
        if self.keep_rounds is None:
            return None
        upto = min(finalized - self.keep_rounds, finalized - 1)
        claimed = self.node.summary.claimed
        decided = next((r - 1 for r in range(1, upto + 2) if r not in claimed), upto)
        upto = min(upto, decided)  # a round's claim recomputes it: keep it until decided
        if upto <= self.released:
            return None
        node, market = self.node, self.node.market
        for round_ in range(self.released + 1, upto + 1):
            for u in market.updates(node.task, round_):
                if u.cid is not None:
                    node.store.unpin(u.cid)
            node.store.unpin(market.finalized_round(node.task, round_).model)
        first, self.released = self.released + 1, upto
        return f"unpinned rounds {first}..{upto} (keeping the last {self.keep_rounds})"

    def step(self, state: RoundState) -> str | None:
        """Attest the current attempt's holdings once (attest window, seat holders only)."""
        node, market = self.node, self.node.market
        key = (state.round, state.attempt)
        if key in self.attested or state.seed == bytes(32):
            return None
        if tuple(market.contract.call("lastAttested", node.task, node.account.address)) == key:
            self.attested.append(key)  # done before a restart
            return None
        if not node.in_committee(state.round, state.attempt):
            return None
        updates = market.updates(node.task, state.round)[:state.submissions]
        held, missing = self._fetch_and_pin(updates)
        attest(market, node.task, state.round, encode_held(held, state.submissions),
               sender=node.account)
        self.attested.append(key)
        self.missing[key] = missing
        gaps = "; ".join(f"update {seq}: {why}" for seq, why in missing.items())
        return (f"attested holding {len(held)} of {len(updates)} updates of round "
                f"{state.round}.{state.attempt}" + (f" (could not get {gaps})" if gaps else ""))

    def _fetch_and_pin(self, updates: list[Update]) -> tuple[set[int], dict[int, str]]:
        store = self.node.store
        held: set[int] = set()
        missing: dict[int, str] = {}
        for u in updates:
            cid = u.cid
            if cid is None:
                missing[u.seq] = f"codec {u.codec:#x} names no supported CID"
                continue
            try:
                store.get(cid)  # verified against the CID, or an error
                store.pin(cid)
            except LedgerError as err:
                missing[u.seq] = f"{type(err).__name__}: {err}"
                continue
            held.add(u.seq)
        return held, missing
