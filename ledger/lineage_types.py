"""Values of a task's lineage as the chain records it (``ledger.lineage`` reads them).

Every CID here is a ``ChainCid``: the ``(digest, codec)`` pair exactly as stored on chain.
The contract does not judge codecs, so a pair may name no supported CID; it is kept as is
(``.cid`` is None) so an auditor can report it instead of failing to read the lineage.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from ledger.availability import Attestation
from ledger.cid import Cid, cid_from_chain
from ledger.market_types import TaskParams, Update

__all__ = [
    "ChainCid",
    "Claim",
    "Cohort",
    "Fee",
    "FinalizedRecord",
    "ModelLocation",
    "RoundLineage",
    "Slash",
    "TaskCreatedRecord",
    "TaskLineage",
    "Vote",
    "to_jsonable",
]


@dataclass(frozen=True, order=True)
class ChainCid:
    """A CID as stored on chain: multihash digest (sha2-256) and multicodec."""

    digest: bytes
    codec: int

    @property
    def cid(self) -> Cid | None:
        """The CID, or None when the on-chain pair names no supported CID."""
        return cid_from_chain(self.digest, self.codec)

    @classmethod
    def of(cls, cid: Cid) -> ChainCid:
        return cls(cid.digest, cid.codec)

    def __str__(self) -> str:
        cid = self.cid
        if cid is not None:
            return str(cid)
        return f"<invalid cid codec={self.codec:#x} digest=0x{bytes(self.digest).hex()}>"


@dataclass(frozen=True)
class FinalizedRecord:
    """A finalized round as one source states it (``finalizedRound`` view or event).

    ``block`` is the event's block (None for the view); ``finalized_at`` the view's
    timestamp (None for the event); ``update_commitment`` the event side's only: the head the
    contract emitted with the round's last counted ``UpdateSubmitted`` (the chain keeps no copy). None values take no part in ``differences``. An overturned round's event record
    carries the dispute's result (``DisputeResolved``), like the view.
    """

    round: int
    parent: ChainCid
    model: ChainCid
    update_commitment: bytes | None
    submissions: int
    rewards_root: bytes
    attempt: int
    votes: int
    budget: int
    block: int | None = None
    finalized_at: int | None = None

    def differences(self, other: FinalizedRecord) -> list[str]:
        """Names of the recorded fields on which two sources disagree."""
        skip = {"block", "finalized_at"}
        return [f.name for f in fields(self)
                if f.name not in skip and getattr(self, f.name) is not None
                and getattr(other, f.name) is not None
                and getattr(self, f.name) != getattr(other, f.name)]


@dataclass(frozen=True)
class Vote:
    """One committee member's vote in one attempt: ``Committed`` and ``Revealed`` events.

    ``model``/``rewards_root``/``tally`` are None when the member committed but never
    revealed; ``commitment`` is None for a reveal whose commit event was not seen.
    """

    member: str
    attempt: int
    commitment: bytes | None
    model: ChainCid | None
    rewards_root: bytes | None
    tally: int | None

    @property
    def revealed(self) -> bool:
        return self.model is not None

    def agrees_with(self, record: FinalizedRecord) -> bool:
        """Whether this vote revealed exactly the finalized (model, rewards root)."""
        return (self.attempt == record.attempt and self.model == record.model
                and self.rewards_root == record.rewards_root)


@dataclass(frozen=True)
class Claim:
    """A ``RewardClaimed`` event."""

    account: str
    amount: int
    block: int


@dataclass(frozen=True)
class Slash:
    """A ``Slashed`` event (the member's vote in ``attempt`` lost ``amount`` of stake)."""

    member: str
    attempt: int
    amount: int


@dataclass(frozen=True)
class Fee:
    """A ``FeeEarned`` event (committee fee credited to a quorum member)."""

    member: str
    amount: int


@dataclass(frozen=True)
class Cohort:
    """A round's ``CohortDrawn`` event and the trainers it draws (``ledger.cohort``).

    ``members`` and ``size`` are what the event says; ``drawn`` is recomputed from the seed, the
    ``Joined`` events and the task's cohort size; ``view_seed`` is the ``cohortSeed`` view.
    """

    seed: bytes
    members: int
    size: int
    view_seed: bytes
    drawn: tuple[str, ...]


@dataclass(frozen=True)
class RoundLineage:
    """Everything the chain says about one finalized round.

    Attributes:
        round: the round (1-based).
        event: the ``ModelFinalized`` event, or None if the source returned none.
        view: the ``finalizedRound`` view, or None if the view says the round is not final.
        updates: ``UpdateSubmitted`` events in submission order.
        votes: one entry per (member, attempt) that committed or revealed.
        committee: the finalizing attempt's seat owners, seat by seat (rebuilt from the
            ``SeedLocked`` and ``Joined`` events; an owner repeats once per seat).
        claims: ``RewardClaimed`` events.
        paid: the ``roundPaid`` view (None when the view is unavailable).
        slashes: ``Slashed`` events of votes in this round.
        fees: ``FeeEarned`` events of this round.
        disagreements: ``"field: view X, event Y"`` for every field view and event differ on.
        dispute: the round's ``DisputeResolved`` outcome (0 none, 2 upheld, 3 overturned,
            4 inconclusive) and its leading and revealed seats.
        cohort: the round's drawn trainers (None: no ``CohortDrawn`` event, e.g. a task
            without a cohort).
        attestations: the finalizing attempt's ``Attested`` events (``ledger.availability``):
            which updates its committee held, so which ones the round counts.
    """

    round: int
    event: FinalizedRecord | None
    view: FinalizedRecord | None
    updates: tuple[Update, ...]
    votes: tuple[Vote, ...]
    committee: tuple[str, ...]
    claims: tuple[Claim, ...]
    paid: int | None
    slashes: tuple[Slash, ...]
    fees: tuple[Fee, ...]
    disagreements: tuple[str, ...]
    dispute: tuple[int, int, int] = (0, 0, 0)
    attestations: tuple[Attestation, ...] = ()
    cohort: Cohort | None = None

    @property
    def record(self) -> FinalizedRecord:
        """The view's record when there is one (with the events' update commitment, which
        only they carry), else the event's."""
        if self.view is not None and self.event is not None:
            return replace(self.view, update_commitment=self.event.update_commitment)
        record = self.view or self.event
        assert record is not None  # a RoundLineage exists only if one source finalized it
        return record


@dataclass(frozen=True)
class TaskCreatedRecord:
    """The ``TaskCreated`` event."""

    requester: str
    token: str
    bounty: int
    manifest: ChainCid
    genesis: ChainCid
    start_time: int
    block: int
    params: TaskParams | None = None


@dataclass(frozen=True)
class TaskLineage:
    """A task's whole on-chain history, rounds in order.

    Attributes:
        task: the task id.
        params: the on-chain parameters (``taskInfo`` view).
        requester: who posted the bounty (view).
        start_time: round 1's start (view).
        created: the ``TaskCreated`` event, or None if the source returned none.
        current_round: the ``currentRound`` view (rounds + 1 once finished).
        rounds: every round finalized by either source, in order.
        disagreements: task-level view/event disagreements.
    """

    task: int
    params: TaskParams
    requester: str
    start_time: int
    created: TaskCreatedRecord | None
    current_round: int
    rounds: tuple[RoundLineage, ...]
    disagreements: tuple[str, ...]

    @property
    def genesis(self) -> ChainCid:
        return ChainCid.of(self.params.genesis)

    @property
    def manifest(self) -> ChainCid:
        return ChainCid.of(self.params.manifest)

    def round(self, round_: int) -> RoundLineage:
        """The lineage of finalized round ``round_``.

        Raises:
            KeyError: the round is not in this lineage.
        """
        for entry in self.rounds:
            if entry.round == round_:
                return entry
        raise KeyError(round_)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (bytes as 0x hex, CIDs as strings)."""
        return to_jsonable(self)


@dataclass(frozen=True)
class ModelLocation:
    """Where a model CID comes from: ``round`` 0 means it is the task's genesis model."""

    task: int
    round: int


def to_jsonable(value: Any) -> Any:
    """Dataclasses, CIDs and bytes (0x hex) turned into JSON-ready values, recursively."""
    if isinstance(value, ChainCid):
        return str(value)
    if isinstance(value, Cid):
        return str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if hasattr(value, "__dataclass_fields__"):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
        if isinstance(value, Update):
            out["cid"] = str(ChainCid(value.digest, value.codec))
        return out
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value
