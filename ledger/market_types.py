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
    "ETH",
    "LineageEntry",
    "MemberInfo",
    "Phase",
    "RoundState",
    "TaskInfo",
    "TaskParams",
    "Update",
    "VoteState",
    "commitment_hash",
    "fold_updates",
    "result_hash",
]

ETH = "0x0000000000000000000000000000000000000000"
"""``TaskParams.token`` for tasks paid in ETH."""


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


class VoteState(IntEnum):
    """A member's last committee vote (``MemberInfo.vote_state``)."""

    NONE = 0
    COMMITTED = 1
    REVEALED = 2
    REVEALED_LATE = 3


def _cid(digest: bytes, codec: int) -> Cid:
    return Cid(int(codec), bytes(digest))


@dataclass(frozen=True, kw_only=True)
class TaskParams:
    """``IFedMarket.TaskParams``: fixed at creation. ``token == ETH`` means an ETH task."""

    manifest: Cid
    genesis: Cid
    bounty: int
    rounds: int
    max_participants: int
    min_submissions: int
    committee_size: int
    quorum: int
    join_duration: int
    train_duration: int
    commit_duration: int
    reveal_duration: int
    stake: int
    slash_bps: int
    committee_fee: int
    max_retries: int
    token: str = ETH

    def to_abi(self) -> tuple[Any, ...]:
        """The struct as a tuple in ABI order."""
        return (
            self.manifest.digest, self.manifest.codec, self.genesis.digest, self.genesis.codec,
            to_checksum_address(self.token), self.bounty, self.rounds, self.max_participants,
            self.min_submissions, self.committee_size, self.quorum, self.join_duration,
            self.train_duration, self.commit_duration, self.reveal_duration, self.stake,
            self.slash_bps, self.committee_fee, self.max_retries,
        )  # fmt: skip

    @classmethod
    def from_abi(cls, t: Sequence[Any]) -> TaskParams:
        """Decode the struct tuple returned by ``taskInfo``."""
        return cls(
            manifest=_cid(t[0], t[1]), genesis=_cid(t[2], t[3]), token=to_checksum_address(t[4]),
            bounty=t[5], rounds=t[6], max_participants=t[7], min_submissions=t[8],
            committee_size=t[9], quorum=t[10], join_duration=t[11], train_duration=t[12],
            commit_duration=t[13], reveal_duration=t[14], stake=t[15], slash_bps=t[16],
            committee_fee=t[17], max_retries=t[18],
        )  # fmt: skip

    @property
    def is_eth(self) -> bool:
        """Whether bounty and stakes are ETH."""
        return int(self.token, 16) == 0


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
    ``[attempt_start, train_end)`` train, ``[train_end, commit_end)`` commit,
    ``[commit_end, reveal_end)`` reveal.
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

    @classmethod
    def from_abi(cls, t: Sequence[Any]) -> RoundState:
        """Decode the struct tuple."""
        parent = _cid(t[10], t[11]) if int(t[11]) else None
        return cls(t[0], t[1], Phase(t[2]), t[3], t[4], t[5], t[6], t[7], bytes(t[8]),
                   bytes(t[9]), parent)  # fmt: skip


@dataclass(frozen=True)
class MemberInfo:
    """``member``: a member's packed state (``is_member`` False for strangers)."""

    is_member: bool
    index: int
    balance: int
    last_submitted_round: int
    vote_round: int
    vote_attempt: int
    vote_state: VoteState
    withdrawn: bool

    @classmethod
    def from_abi(cls, t: Sequence[Any]) -> MemberInfo:
        """Decode the struct tuple."""
        return cls(bool(t[0]), t[1], t[2], t[3], t[4], t[5], VoteState(t[6]), bool(t[7]))


@dataclass(frozen=True)
class LineageEntry:
    """A finalized round: ``finalizedRound`` view or ``ModelFinalized`` event."""

    round: int
    parent: Cid
    model: Cid
    update_commitment: bytes
    submissions: int
    rewards_root: bytes
    attempt: int
    votes: int
    budget: int

    @classmethod
    def from_view(cls, round_: int, t: Sequence[Any]) -> LineageEntry:
        """Decode ``finalizedRound``'s struct tuple."""
        return cls(round_, _cid(t[0], t[1]), _cid(t[2], t[3]), bytes(t[4]), t[5], bytes(t[6]),
                   t[7], t[8], t[11])  # fmt: skip

    @classmethod
    def from_event(cls, args: dict[str, Any]) -> LineageEntry:
        """Decode a ``ModelFinalized`` event's args."""
        return cls(
            args["round"], _cid(args["parentDigest"], args["parentCodec"]),
            _cid(args["modelDigest"], args["modelCodec"]), bytes(args["updateCommitment"]),
            args["submissions"], bytes(args["rewardsRoot"]), args["attempt"], args["votes"],
            args["budget"],
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


def result_hash(model: Cid, rewards_root: bytes) -> bytes:
    """``keccak256(abi.encode(modelDigest, modelCodec, rewardsRoot))``: what a reveal votes for."""
    return keccak(encode(["bytes32", "uint64", "bytes32"], [model.digest, model.codec, rewards_root]))


def commitment_hash(model: Cid, rewards_root: bytes, salt: bytes, sender: str) -> bytes:
    """The commit-phase hash ``keccak256(abi.encode(digest, codec, rewardsRoot, salt, sender))``."""
    return keccak(
        encode(
            ["bytes32", "uint64", "bytes32", "bytes32", "address"],
            [model.digest, model.codec, rewards_root, salt, to_checksum_address(sender)],
        )
    )


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
