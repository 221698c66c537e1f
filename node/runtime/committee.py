"""What a committee member computes for a round, and what claims and audits recompute.

Everything here is a function of chain data (the task's parameters, the round's
``UpdateSubmitted`` events in submission order) and content fetched by CID, so every
honest member gets the same model CID and the same rewards root:

* an update the attempt's committee did not attest as available (``ledger.availability``:
  held by fewer than ``quorum`` seats) is excluded without being fetched, so every member
  leaves out the same updates whatever it could fetch itself; an update whose CID is
  malformed, whose counted content still cannot be fetched, or whose bytes do not decode
  against the architecture is excluded too, and the reason recorded;
* the accepted updates are aggregated by ``node.aggregation.round.aggregate_round``;
* in a ``secure`` task the updates are masked: the round is summed by
  ``node.aggregation.secure_round.secure_aggregate_round`` from the masked files, the task's mask set
  (its members) and the survivors' seed-reveal files registered on ``SeedReveals`` for the
  attempt being decided (:class:`SecureInputs`); a missing or wrong reveal keeps the
  parent's weights, pays nobody and names the revealer (``RoundOutcome.culprits``);
* the round's reward budget (its share of the bounty less the quorum's committee fees)
  is split by the integer scores and committed to as a Merkle root of
  ``(participant, amount)`` leaves with a non-zero amount.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ledger.cid import Cid
from ledger.errors import LedgerError
from ledger.manifest import TaskManifest
from ledger.market_types import TaskParams, Update
from ledger.merkle import RewardTree, build_reward_tree
from ledger.unixfs import cid_of, cid_str
from node.aggregation.round import RoundResult, aggregate_round
from node.aggregation.scores import reward_split
from node.aggregation.secure_round import Submission, round_ring_params, secure_aggregate_round
from node.codec.safetensors import expected_layout
from node.errors import NodeError
from node.learning.task import model_of

__all__ = ["EMPTY_ROOT", "RoundOutcome", "SecureInputs", "SecureInputsError", "compute_round",
           "round_budget"]

EMPTY_ROOT = bytes(32)
"""The rewards root of a round in which nobody earned anything."""

Fetch = Callable[[Cid], bytes]


@dataclass(frozen=True)
class RoundOutcome:
    """A round's deterministic result.

    Attributes:
        round: the round index.
        model_bytes: the new global model file.
        model: its CID.
        rewards: ``(participant, amount)`` with amount > 0, in submission order.
        rewards_root: the Merkle root over ``rewards`` (``EMPTY_ROOT`` if none).
        excluded: ``(participant, reason)`` of every update left out.
        dropped: secure mode: mask-set members without a valid masked update.
        culprits: secure mode: ``(revealer, dropped member, reason)`` of every missing or
            wrong seed reveal (non-empty: the parent's weights were kept).
    """

    round: int
    model_bytes: bytes
    model: Cid
    rewards: tuple[tuple[str, int], ...]
    rewards_root: bytes
    excluded: tuple[tuple[str, str], ...]
    dropped: tuple[str, ...] = ()
    culprits: tuple[tuple[str, str, str], ...] = ()

    def tree(self) -> RewardTree | None:
        """The rewards tree (for proofs), or None when nobody is paid."""
        return build_reward_tree(self.rewards) if self.rewards else None

    def amount_of(self, account: str) -> int:
        return next((amount for who, amount in self.rewards if who.lower() == account.lower()), 0)


class SecureInputsError(NodeError):
    """A secure round computed without its mask set and reveals."""


@dataclass(frozen=True)
class SecureInputs:
    """What a secure round needs beyond its update list, all read from the chain.

    Attributes:
        task: the task id (masks are bound to it).
        mask_set: the task's members (``FedMarket.members``), every one masked against
            every other.
        reveals: ``(revealer, reveal file CID or None)`` from the ``SeedsRevealed`` events
            of the attempt being decided, in chain order.
    """

    task: int
    mask_set: tuple[str, ...]
    reveals: tuple[tuple[str, Cid | None], ...] = ()


def round_budget(params: TaskParams, round_index: int) -> int:
    """The part of the bounty the round's contributors share: exactly the contract's budget
    (the round's share less one committee fee per seat; slashes go to the requester)."""
    return params.round_budget(round_index)


class _LazyPayloads(Sequence[tuple[bytes, int]]):
    """``(bytes, numSamples)`` of each update, fetched when ``aggregate_round`` reads it.

    A committee member thus holds O(1) updates instead of all N (measured in
    ``scripts/bench_scale.py``), at the price of fetching each update twice (once for its
    CID, once to aggregate it). Unavailable content reads as ``b""`` (an invalid update)
    and its reason is kept in ``unavailable``.
    """

    def __init__(self, updates: Sequence[Update], fetch: Fetch,
                 not_counted: Mapping[int, str] | None) -> None:
        self._updates = updates
        self._fetch = fetch
        self._strict = not_counted is not None
        self._not_counted = not_counted or {}
        self.unavailable: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._updates)

    def __getitem__(self, index):  # type: ignore[override]  # int indices only
        update = self._updates[index]
        return self._payload(index, update), update.num_samples

    def _payload(self, index: int, update: Update) -> bytes:
        if update.seq in self._not_counted:
            self.unavailable[index] = self._not_counted[update.seq]
            return b""
        cid = update.cid
        if cid is None:
            self.unavailable[index] = f"codec {update.codec:#x} names no supported CID"
            return b""
        try:
            return self._fetch(cid)
        except LedgerError as err:
            if self._strict:
                # The committee holds it (attested by a quorum of seats): failing to get it is
                # this node's problem, and a result computed without it would be a wrong vote.
                raise
            self.unavailable[index] = f"content unavailable: {err}"
            return b""


def _fetch_reveals(secure: SecureInputs, fetch: Fetch) -> dict[str, bytes]:
    """Revealer -> reveal file; an unavailable file counts as missing (the revealer is named)."""
    files: dict[str, bytes] = {}
    for who, cid in secure.reveals:
        if cid is None or who.lower() in files:
            continue
        try:
            files[who.lower()] = fetch(cid)
        except LedgerError:
            continue
    return files


def _secure_result(manifest: TaskManifest, round_index: int, parent_bytes: bytes,
                   updates: Sequence[Update], payloads: Sequence[bytes],
                   secure: SecureInputs | None, fetch: Fetch) -> RoundResult:
    if secure is None:
        raise SecureInputsError(f"round {round_index} of a secure task needs its mask set and "
                                f"seed reveals (SecureInputs)")
    return secure_aggregate_round(
        parent_bytes,
        [Submission(u.participant, data, u.num_samples) for data, u in zip(payloads, updates)],
        mask_set=secure.mask_set, reveals=_fetch_reveals(secure, fetch), task=secure.task,
        round_index=round_index,
        params=round_ring_params(members=len(secure.mask_set),
                                 max_samples=manifest.max_samples, dp=manifest.dp),
        layout=expected_layout(model_of(manifest)), rule=manifest.aggregation,
        rule_params=manifest.aggregation_params, max_samples=manifest.max_samples,
        min_updates=manifest.noise_shares)


def compute_round(manifest: TaskManifest, params: TaskParams, round_index: int,
                  parent_bytes: bytes, updates: Sequence[Update], fetch: Fetch, *,
                  secure: SecureInputs | None = None,
                  not_counted: Mapping[int, str] | None = None) -> RoundOutcome:
    """Recompute round ``round_index`` from its parent model and on-chain update list.

    Args:
        manifest: the task manifest (architecture, rule, caps).
        params: the task's on-chain parameters (bounty, rounds, fee, quorum).
        round_index: the round.
        parent_bytes: the parent model file (already verified against its CID).
        updates: the round's ``UpdateSubmitted`` events in submission order.
        fetch: CID -> verified bytes; a ``LedgerError`` marks the update unavailable.
        secure: the mask set and reveals (required when ``manifest.privacy == "secure"``,
            ignored otherwise).
        not_counted: update seq -> why it is left out unread: the updates the attempt's
            committee did not attest as available (``ledger.availability.unavailable_reasons``).
            Given, a counted update that cannot be fetched raises instead of being excluded
            (this node cannot compute the round; None: the pre-availability rule, exclude it).

    Raises:
        ContentError: with ``not_counted``, a counted update could not be fetched.
        CodecError: the parent model does not fit the architecture.
        SecureInputsError: a secure task without ``secure``.
        FixedPointError: a secure task whose ring cannot hold its members' updates.
    """
    payloads = _LazyPayloads(updates, fetch, not_counted)
    if manifest.privacy == "secure":
        # Masked updates are summed in the ring all at once (they are small integers' worth
        # of work each); fetch them up front.
        plain = [payloads[i][0] for i in range(len(payloads))]
        result = _secure_result(manifest, round_index, parent_bytes, updates, plain, secure,
                                fetch)
    else:
        result = aggregate_round(
            parent_bytes, payloads,
            content_key=cid_str, layout=expected_layout(model_of(manifest)), rule=manifest.aggregation,
            rule_params=manifest.aggregation_params, max_samples=manifest.max_samples,
            round_index=round_index, scoring=manifest.reward_rule,
        )
    excluded = tuple((updates[i].participant, payloads.unavailable.get(i, reason))
                     for i, reason in result.rejected)
    amounts = reward_split(list(result.scores), round_budget(params, round_index))
    rewards = tuple((u.participant, a) for u, a in zip(updates, amounts) if a > 0)
    root = build_reward_tree(rewards).root if rewards else EMPTY_ROOT
    return RoundOutcome(round=round_index, model_bytes=result.model_bytes,
                        model=cid_of(result.model_bytes), rewards=rewards,
                        rewards_root=root, excluded=excluded,
                        dropped=tuple(getattr(result, "dropped", ())),
                        culprits=tuple(getattr(result, "culprits", ())))
