"""A participant's chain-facing steps of a ``secure`` task: mask set, reveals, recovery window.

Everything is read from the chain on each call (members, public keys, ``UpdateSubmitted``
and ``SeedsRevealed`` events); what is cached can only grow stale in ways the chain rules
out (the member list is frozen once round 1 starts, public keys never change).

Timeline of one attempt of a secure round:

* train phase: each member masks its update against every other member and submits it;
  a member that finds seeds already revealed for the round (it was counted as dropped in
  an earlier attempt) does not submit: survivors may have published its pair seeds, so
  its masked update would no longer hide anything;
* recovery window (first half of the commit phase, ``ledger.seed_reveals``): every member
  with a valid masked update, if anyone dropped, publishes its pair seeds with the dropped
  members on the store and registers the file on ``SeedReveals`` (unless the task's
  distributed DP needs more valid updates than there are: that sum must stay masked);
* second half: the committee computes the round from the masked files and the attempt's
  reveals (:meth:`SecureSteps.inputs`), then commits as in open mode. A committee member
  starts as soon as every expected reveal is in, or when the window has ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from ledger.availability import not_counted
from ledger.cid import Cid
from ledger.errors import LedgerError
from ledger.manifest import TaskManifest
from ledger.market import FedMarket
from ledger.market_types import RoundState
from ledger.seed_reveals import SeedReveals, recovery_window
from ledger.store import ContentStore
from node.aggregation.secure_round import (
    Classified,
    Submission,
    classify_submissions,
    round_ring_params,
)
from node.codec.flat import layout_size
from node.codec.safetensors import expected_layout
from node.learning.task import model_of
from node.privacy.keys import agreement_private_key
from node.privacy.secagg import reveal_seeds
from node.runtime.committee import SecureInputs

__all__ = ["RecoveryView", "SecureSteps", "secure_inputs_reader"]


def secure_inputs_reader(market: FedMarket, reveals: SeedReveals, task: int, *,
                         from_block: int = 0) -> Callable[[int, int], SecureInputs]:
    """``(round, attempt) -> SecureInputs`` read from the chain (for audit replays)."""
    members = tuple(m.lower() for m in market.members(task))

    def read(round_: int, attempt: int) -> SecureInputs:
        found = reveals.reveals(task, round_, attempt, from_block=from_block)
        return SecureInputs(task=task, mask_set=members,
                            reveals=tuple((r.member.lower(), r.cid) for r in found))

    return read


@dataclass(frozen=True)
class RecoveryView:
    """Where the current attempt's dropout recovery stands.

    Attributes:
        dropped: mask-set members without a valid masked update.
        survivors: members with a valid masked update (the expected revealers when
            someone dropped).
        revealed: members that registered a reveal in this attempt.
        window_open: the chain's latest block is inside the recovery window.
        min_survivors: the fewest survivors whose sum may be unmasked (the manifest's
            ``noise_shares``); with fewer, nobody reveals.
    """

    dropped: tuple[str, ...]
    survivors: tuple[str, ...]
    revealed: tuple[str, ...]
    window_open: bool
    min_survivors: int = 1

    @property
    def reveal_allowed(self) -> bool:
        """Whether survivors' seeds may be revealed (enough noise shares in the sum)."""
        return len(self.survivors) >= self.min_survivors

    @property
    def complete(self) -> bool:
        """Nothing more can or need arrive: the committee may compute."""
        if not self.window_open or not self.dropped or not self.reveal_allowed:
            return True
        return set(self.survivors) <= set(self.revealed)


class SecureSteps:
    """The secure-mode steps of one participant of one task.

    Args:
        market: the market.
        reveals: the deployment's SeedReveals contract.
        store: where masked updates and reveal files live.
        account: the participant's key.
        task: the task id.
        manifest: the task's manifest.
        fetch: CID -> verified bytes (the participant's cached fetch).
        quorum: the task's quorum (an update counts when attested by that many seats).
    """

    def __init__(self, market: FedMarket, reveals: SeedReveals, store: ContentStore,
                 account: LocalAccount, *, task: int, manifest: TaskManifest,
                 fetch: Callable[[Cid], bytes], quorum: int) -> None:
        self.market = market
        self.reveals = reveals
        self.store = store
        self.account = account
        self.task = task
        self.manifest = manifest
        self.fetch = fetch
        self.quorum = quorum
        self._members: tuple[str, ...] | None = None
        self._pubkeys: dict[str, bytes] = {}
        self._classified: dict[tuple[int, int], Classified] = {}

    @property
    def me(self) -> str:
        return self.account.address.lower()

    def mask_set(self) -> tuple[str, ...]:
        """The task's members (frozen once round 1 starts)."""
        if self._members is None:
            self._members = tuple(m.lower() for m in self.market.members(self.task))
        return self._members

    def pubkeys(self, members: tuple[str, ...] | list[str]) -> dict[str, bytes]:
        """Registered key-agreement public keys of ``members``."""
        for m in members:
            if m not in self._pubkeys:
                self._pubkeys[m] = self.market.pubkey(self.task, to_checksum_address(m))
        return {m: self._pubkeys[m] for m in members}

    def peers(self) -> dict[str, bytes]:
        """Every other member -> its public key (what :func:`mask_update` masks against)."""
        return self.pubkeys([m for m in self.mask_set() if m != self.me])

    def seeds_exposed(self, round_: int) -> bool:
        """Whether seeds were already revealed in ``round_`` (then do not submit in it)."""
        return bool(self.reveals.reveals(self.task, round_))

    def inputs(self, round_: int, attempt: int) -> SecureInputs:
        """The mask set and the (round, attempt)'s reveals, as ``compute_round`` needs them."""
        found = self.reveals.reveals(self.task, round_, attempt)
        return SecureInputs(task=self.task, mask_set=self.mask_set(),
                            reveals=tuple((r.member.lower(), r.cid) for r in found))

    def classify(self, round_: int, attempt: int) -> Classified:
        """Valid submissions and dropped members of (``round_``, ``attempt``), final once its
        attest window closed: a masked update the committee did not attest as available
        counts as dropped (its mask is recovered like a non-submitter's), whatever this node
        could fetch itself."""
        updates = self.market.updates(self.task, round_)
        key = (round_, attempt)
        if key not in self._classified:
            skipped = not_counted(self.market, self.task, round_, attempt, updates, self.quorum)
            subs = []
            for u in updates:
                try:
                    data = self.fetch(u.cid) if u.cid is not None and u.seq not in skipped \
                        else b""
                except LedgerError:
                    data = b""
                subs.append(Submission(u.participant, data, u.num_samples))
            members = self.mask_set()
            self._classified[key] = classify_submissions(
                subs, mask_set=members, task=self.task, round_index=round_,
                params=round_ring_params(members=len(members),
                                         max_samples=self.manifest.max_samples,
                                         dp=self.manifest.dp),
                size=layout_size(expected_layout(model_of(self.manifest))),
                max_samples=self.manifest.max_samples)
        return self._classified[key]

    def recovery(self, state: RoundState) -> RecoveryView:
        """Where the current attempt's recovery stands (call in the commit phase)."""
        classified = self.classify(state.round, state.attempt)
        survivors = tuple(sorted(u.member for _, u in classified.valid))
        revealed = tuple(sorted({r.member.lower() for r in self.reveals.reveals(
            self.task, state.round, state.attempt)}))
        _, end = recovery_window(state)
        now = int(self.market.w3.eth.get_block("latest")["timestamp"])
        return RecoveryView(dropped=classified.dropped, survivors=survivors, revealed=revealed,
                            window_open=now < end, min_survivors=self.manifest.noise_shares)

    def reveal_if_needed(self, state: RoundState) -> str | None:
        """In the recovery window: publish and register this member's seeds with the dropped.

        Returns:
            What was done, or None when there is nothing to reveal.

        Raises:
            ContractCustomError: the contract refused the reveal (window closed, ...).
            LedgerError: the store or the chain failed.
        """
        view = self.recovery(state)
        if not view.window_open or not view.dropped or self.me not in view.survivors \
                or self.me in view.revealed or not view.reveal_allowed:
            return None
        data = reveal_seeds(agreement_private_key(self.account), own=self.me,
                            dropped=self.pubkeys(list(view.dropped)), task=self.task,
                            round_index=state.round)
        cid = self.store.put(data)
        self.reveals.reveal(self.task, state.round, cid, sender=self.account)
        return (f"revealed seeds for round {state.round}.{state.attempt} with dropped "
                f"{list(view.dropped)}: {cid}")
