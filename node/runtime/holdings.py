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

from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from ledger.availability import attest, encode_held
from ledger.content_errors import StoreUnavailableError
from ledger.errors import LedgerError
from ledger.market_types import RoundState, Update

if TYPE_CHECKING:
    from node.runtime.participant import Participant

__all__ = ["Holdings"]

_FETCHERS = 8  # parallel fetches during an attestation


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
        now = node.read.timestamp
        # Leave the last part of the window for the attestation's own transaction.
        budget = (state.attest_end - now) * 0.6
        held, missing = self._fetch_and_pin(updates, budget)
        attest(market, node.task, state.round, encode_held(held, state.submissions),
               sender=node.account)
        self.attested.append(key)
        self.missing[key] = missing
        gaps = "; ".join(f"update {seq}: {why}" for seq, why in missing.items())
        return (f"attested holding {len(held)} of {len(updates)} updates of round "
                f"{state.round}.{state.attempt}" + (f" (could not get {gaps})" if gaps else ""))

    def _fetch_and_pin(self, updates: list[Update], seconds: float
                       ) -> tuple[set[int], dict[int, str]]:
        """Fetch the updates in parallel, for at most ``seconds`` in all: an update a peer
        serves slowly or never must not cost the attestation its window.

        Raises:
            StoreUnavailableError: this node's own store is down: it holds nothing it could
                vouch for, so it does not attest (and retries on its next poll).
        """
        store = self.node.store
        held: set[int] = set()
        missing: dict[int, str] = {}

        def fetch(u: Update) -> None:
            assert u.cid is not None
            store.get(u.cid)  # verified against the CID, or an error
            store.pin(u.cid)

        pool = ThreadPoolExecutor(max_workers=_FETCHERS, thread_name_prefix="attest")
        try:
            futures = {}
            for u in updates:
                if u.cid is None:
                    missing[u.seq] = f"codec {u.codec:#x} names no supported CID"
                else:
                    futures[pool.submit(fetch, u)] = u.seq
            done, late = wait(futures, timeout=max(1.0, seconds))
            for future in done:
                err = future.exception()
                if isinstance(err, StoreUnavailableError):
                    raise err  # this node's own store did not answer
                if err is None:
                    held.add(futures[future])
                elif isinstance(err, LedgerError):
                    missing[futures[future]] = f"{type(err).__name__}: {err}"
                else:
                    raise err
            for future in late:
                missing[futures[future]] = f"not fetched within {seconds:.0f} s"
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return held, missing
