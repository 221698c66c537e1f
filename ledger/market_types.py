"""Python values for the FedMarket contract: phases, task parameters, round state, lineage.

All CIDs travel as ``ledger.cid.Cid`` (on chain: ``bytes32`` digest + ``uint64`` codec), amounts
as ``int`` wei (or token units), times as ``int`` Unix seconds. The hash helpers reproduce the
contract's commitments so a node can compute them without a call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from ledger.cid import Cid, cid_from_chain

__all__ = [
    "DISPUTE_ATTEMPT",
    "DISPUTE_VOTE",
    "ETH",
    "ROUND_VOTE",
    "DisputeInfo",
    "DisputeState",
    "LineageEntry",
    "MemberInfo",
    "NodeState",
    "Phase",
    "RoundState",
    "TaskInfo",
    "TaskParams",
    "Update",
    "VoteState",
    "commitment_hash",
    "counted_head",
    "fold_updates",
    "result_hash",
]

ETH = "0x0000000000000000000000000000000000000000"
"""``TaskParams.token`` for tasks paid in ETH."""
DISPUTE_ATTEMPT = 255
"""The ``attempt`` that names a round's dispute in events, errors and ``votes_for``."""
ROUND_VOTE, DISPUTE_VOTE = 0, 1


class Phase(IntEnum):
    """``IFedMarket.Phase``."""

    NONE = 0
    PENDING = 1
    TRAIN = 2
    COMMIT = 3
    REVEAL = 4
    FINISHED = 5
    CLOSED = 6
    CANCELLED = 7
    DISPUTED = 8
    ATTEST = 9  # between TRAIN and COMMIT (appended: the contract's enum order)


class DisputeState(IntEnum):
    """``IFedMarket.DisputeState``: where a finalized round's dispute stands."""

    NONE = 0
    OPEN = 1
    UPHELD = 2
    OVERTURNED = 3
    INCONCLUSIVE = 4


class VoteState(IntEnum):
    """A member's last committee vote (``MemberInfo.vote_state``)."""

    NONE = 0
    COMMITTED = 1
    REVEALED = 2
    FINALIZED = 3  # revealed, and that reveal finalized the round (the contract keeps no copy)

    @property
    def revealed(self) -> bool:
        """Whether the member opened its commitment (finalizing or not)."""
        return self in (VoteState.REVEALED, VoteState.FINALIZED)


def _cid(digest: bytes, codec: int) -> Cid:
    return Cid(int(codec), bytes(digest))


_PARAM_FIELDS = (
    "token", "bounty", "rounds", "max_participants", "min_submissions", "committee_size",
    "quorum", "dispute_size", "join_duration", "train_duration", "commit_duration",
    "reveal_duration", "challenge_duration", "claim_duration", "min_stake", "slash_bps",
    "committee_fee", "challenge_bond", "max_retries", "cohort_size",
)  # ABI order after the two CIDs


@dataclass(frozen=True, kw_only=True)
class TaskParams:
    """``IFedMarket.TaskParams``: fixed at creation. ``token == ETH`` means an ETH task.

    ``committee_size`` and ``dispute_size`` count seats, drawn stake-weighted; ``min_stake``
    is the least a member may join with (members may stake more and hold more seats).
    ``cohort_size`` K > 0 lets only K drawn members train each round (``ledger.cohort``); 0: all.
    """

    manifest: Cid
    genesis: Cid
    bounty: int
    rounds: int
    max_participants: int
    min_submissions: int
    committee_size: int
    quorum: int
    dispute_size: int
    join_duration: int
    train_duration: int
    commit_duration: int
    reveal_duration: int
    challenge_duration: int
    claim_duration: int
    min_stake: int
    slash_bps: int
    committee_fee: int
    challenge_bond: int
    max_retries: int
    token: str = ETH
    cohort_size: int = 0

    def to_abi(self) -> tuple[Any, ...]:
        """The struct as a tuple in ABI order."""
        rest = [getattr(self, name) for name in _PARAM_FIELDS]
        rest[0] = to_checksum_address(self.token)
        return (self.manifest.digest, self.manifest.codec, self.genesis.digest,
                self.genesis.codec, *rest)

    @classmethod
    def from_abi(cls, t: Sequence[Any]) -> TaskParams:
        """Decode the struct tuple returned by ``taskInfo`` (or carried by ``TaskCreated``)."""
        values = dict(zip(_PARAM_FIELDS, t[4:], strict=True))
        values["token"] = to_checksum_address(values["token"])
        return cls(manifest=_cid(t[0], t[1]), genesis=_cid(t[2], t[3]), **values)

    @property
    def is_eth(self) -> bool:
        """Whether bounty and stakes are ETH."""
        return int(self.token, 16) == 0

    @property
    def round_fees(self) -> int:
        """Committee fees reserved per round (one fee per seat)."""
        return self.committee_fee * self.committee_size

    def round_share(self, round_: int) -> int:
        """Round ``round_``'s share of the bounty (the last round gets the remainder)."""
        share = self.bounty // self.rounds
        if round_ == self.rounds:
            share = self.bounty - share * (self.rounds - 1)
        return share

    def round_budget(self, round_: int) -> int:
        """What round ``round_``'s contributors share: its share less the seats' fees."""
        return self.round_share(round_) - self.round_fees


@dataclass(frozen=True)
class TaskInfo:
    """``taskInfo``: parameters, requester and round 1's start time."""

    params: TaskParams
    requester: str
    start_time: int


@dataclass(frozen=True)
class RoundState:
    """``roundState``: what a node needs to act now.

    ``parent`` is the model this round trains on (None once finished/cancelled); windows are
    ``cohort_seed`` is round's cohort seed (zero until drawn, and in a task without a cohort).
    ``[attempt_start, train_end)`` train, ``[train_end, attest_end)`` attest (availability,
    ``ledger.availability``), ``[attest_end, commit_end)`` commit, ``[commit_end, reveal_end)``
    reveal.
    """

    round: int
    attempt: int
    phase: Phase
    attempt_start: int
    train_end: int
    commit_end: int
    reveal_end: int
    submissions: int
    update_commitment: bytes
    seed: bytes
    parent: Cid | None
    attest_end: int = 0
    cohort_seed: bytes = bytes(32)

    @classmethod
    def from_abi(cls, t: Sequence[Any]) -> RoundState:
        """Decode the struct tuple."""
        parent = _cid(t[10], t[11]) if int(t[11]) else None
        return cls(t[0], t[1], Phase(t[2]), t[3], t[4], t[5], t[6], t[7], bytes(t[8]),
                   bytes(t[9]), parent, int(t[12]), bytes(t[13]))  # fmt: skip


@dataclass(frozen=True)
class MemberInfo:
    """``member``: a member's packed state (``is_member`` False for strangers)."""

    is_member: bool
    index: int
    balance: int
    stake: int
    stake_start: int
    last_submitted_round: int
    vote_round: int
    vote_attempt: int
    vote_state: VoteState
    vote_weight: int
    dispute_round: int
    dispute_state: VoteState
    dispute_weight: int
    withdrawn: bool

    @classmethod
    def from_abi(cls, t: Sequence[Any]) -> MemberInfo:
        """Decode the struct tuple."""
        return cls(bool(t[0]), t[1], t[2], t[3], t[4], t[5], t[6], t[7], VoteState(t[8]), t[9],
                   t[10], VoteState(t[11]), t[12], bool(t[13]))  # fmt: skip


@dataclass(frozen=True)
class NodeState:
    """``nodeState``: one read a node decides its next step from (state, its own record,
    whether it may train this round, and the time of the block it was read at)."""

    state: RoundState
    member: MemberInfo
    trains: bool
    timestamp: int

    @classmethod
    def from_abi(cls, t: Sequence[Any]) -> NodeState:
        """Decode the view's four return values."""
        return cls(RoundState.from_abi(t[0]), MemberInfo.from_abi(t[1]), bool(t[2]), int(t[3]))

    def round_settled(self, round_: int) -> bool:
        """``roundSettled`` of finalized round ``round_`` at this read: its challenge window
        closed and no dispute holds it (rounds never overlap, so the counter tells)."""
        s = self.state
        if round_ + 1 != s.round:
            return round_ + 1 < s.round
        if s.phase in (Phase.PENDING, Phase.DISPUTED, Phase.CANCELLED, Phase.NONE):
            return False
        return s.phase != Phase.FINISHED or self.timestamp >= s.attempt_start


@dataclass(frozen=True)
class DisputeInfo:
    """``dispute``: a round's dispute (``state == NONE`` when it was never challenged)."""

    state: DisputeState
    challenger: str
    start: int
    commit_end: int
    reveal_end: int
    seed: bytes
    original: bytes
    leader: bytes
    leader_seats: int
    revealed_seats: int

    @classmethod
    def from_abi(cls, t: Sequence[Any]) -> DisputeInfo:
        """Decode the struct tuple."""
        return cls(DisputeState(t[0]), t[1], t[2], t[3], t[4], bytes(t[5]), bytes(t[6]),
                   bytes(t[7]), t[8], t[9])  # fmt: skip


@dataclass(frozen=True)
class LineageEntry:
    """A finalized round: ``finalizedRound`` view or ``ModelFinalized`` event.

    ``update_commitment`` comes from the events only (``counted_head``; None from the view);
    ``dispute`` from the
    view only (events are applied by ``ledger.lineage``).
    """

    round: int
    parent: Cid
    model: Cid
    update_commitment: bytes | None
    submissions: int
    rewards_root: bytes
    attempt: int
    votes: int
    budget: int
    dispute: DisputeState = DisputeState.NONE

    @classmethod
    def from_view(cls, round_: int, t: Sequence[Any]) -> LineageEntry:
        """Decode ``finalizedRound``'s struct tuple."""
        return cls(round_, _cid(t[0], t[1]), _cid(t[2], t[3]), None, t[5], bytes(t[4]),
                   t[6], t[7], t[10], DisputeState(t[11]))  # fmt: skip

    @classmethod
    def from_event(cls, args: dict[str, Any], *, parent: Cid, budget: int,
                   update_commitment: bytes | None) -> LineageEntry:
        """Decode a ``ModelFinalized`` event's args; the event states neither the parent (the
        previous round's final model, or genesis), nor the budget (``TaskParams.round_budget``),
        nor the update commitment (``counted_head`` of the round's updates)."""
        return cls(
            args["round"], parent, _cid(args["modelDigest"], args["modelCodec"]),
            update_commitment, args["submissions"], bytes(args["rewardsRoot"]),
            args["attempt"], args["votes"], budget,
        )  # fmt: skip


@dataclass(frozen=True)
class Update:
    """An ``UpdateSubmitted`` event. ``cid`` is None when the codec/digest is not a valid CID
    (the contract does not judge codecs; a node skips such updates)."""

    round: int
    participant: str
    digest: bytes
    codec: int
    num_samples: int
    seq: int
    commitment: bytes

    @property
    def cid(self) -> Cid | None:
        """The CID, or None when the on-chain pair names no supported CID."""
        return cid_from_chain(self.digest, self.codec)

    @classmethod
    def from_event(cls, args: dict[str, Any]) -> Update:
        """Decode an ``UpdateSubmitted`` event's args."""
        return cls(args["round"], args["participant"], bytes(args["digest"]), args["codec"],
                   args["numSamples"], args["seq"], bytes(args["commitment"]))  # fmt: skip


def counted_head(updates: Iterable[dict[str, Any]], submissions: int) -> bytes | None:
    """The update commitment a round finalized with: the ``commitment`` the contract emitted
    with the round's ``submissions``-th update (``UpdateSubmitted`` args, seq ==
    submissions - 1); zero for a round without updates, None if that event is missing."""
    if submissions == 0:
        return bytes(32)
    return next((bytes(u["commitment"]) for u in updates if int(u["seq"]) == submissions - 1), None)


def result_hash(model: Cid, rewards_root: bytes) -> bytes:
    """``keccak256(abi.encode(modelDigest, modelCodec, rewardsRoot))``: what a reveal votes for."""
    return keccak(encode(["bytes32", "uint64", "bytes32"], [model.digest, model.codec, rewards_root]))


def commitment_hash(model: Cid, rewards_root: bytes, salt: bytes, sender: str, *, chain_id: int,
                    market: str, task: int, round_: int, attempt: int,
                    kind: int = ROUND_VOTE) -> bytes:
    """The hash a vote commits to, bound to chain, market, task, round, attempt, kind and voter:
    ``keccak256(abi.encode(kind, chainid, market, task, round, attempt, digest, codec,
    rewardsRoot, salt, sender))``; a dispute vote has ``kind=DISPUTE_VOTE``, attempt 255."""
    return keccak(encode(
        ["uint256", "uint256", "address", "uint256", "uint256", "uint256", "bytes32", "uint64",
         "bytes32", "bytes32", "address"],
        [kind, chain_id, to_checksum_address(market), task, round_, attempt, model.digest,
         model.codec, rewards_root, salt, to_checksum_address(sender)],
    ))  # fmt: skip


def fold_updates(updates: Iterable[tuple[str, bytes, int, int]]) -> bytes:
    """The round's update commitment from ``(participant, digest, codec, numSamples)`` in order.

    ``head_0 = 0``, ``head_i = keccak256(abi.encode(head_{i-1}, participant, digest, codec,
    numSamples))``; returns 32 zero bytes for no updates.
    """
    head = bytes(32)
    types = ["bytes32", "address", "bytes32", "uint64", "uint64"]
    for participant, digest, codec, num_samples in updates:
        values = [head, to_checksum_address(participant), digest, codec, num_samples]
        head = keccak(encode(types, values))
    return head
