"""Read a task's lineage from the chain alone: views and events, side by side.

    lineage = read_lineage(market, task, from_block=deployment.block)
    for r in lineage.rounds:
        print(r.round, r.record.parent, "->", r.record.model, len(r.updates), "updates")
    [where] = locate_model(market, model_cid)          # which task and round made it

Each finalized round is read twice: from the ``finalizedRound`` view and from the
``ModelFinalized`` event. Both come from the same RPC endpoint, so agreement proves
nothing against a node that lies consistently; disagreement, though, proves that the
endpoint (or the indexer behind it) is lying or broken, and is recorded per field in
``RoundLineage.disagreements``. Updates, votes, claims, slashes and fees exist only as
events. Nothing here imports torch: the auditor (``ledger.audit``) builds on this.

The reader takes anything shaped like a ``FedMarket`` whose ``contract`` has
``events(name, from_block, **filters)`` and ``call(fn, *args)``: a test can wrap the real
contract to drop or alter events and play a lying RPC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from ledger.availability import Attestation
from ledger.chain.errors import ContractCustomError
from ledger.cid import Cid
from ledger.cohort import cohort_members
from ledger.committee import seat_owners
from ledger.content_errors import InvalidCidError
from ledger.errors import LedgerError
from ledger.lineage_types import (
    ChainCid,
    Claim,
    Cohort,
    Fee,
    FinalizedRecord,
    ModelLocation,
    RoundLineage,
    Slash,
    TaskCreatedRecord,
    TaskLineage,
    Vote,
)
from ledger.market import FedMarket
from ledger.market_types import TaskInfo, TaskParams, Update, counted_head

__all__ = ["LineageError", "ModelNotFoundError", "locate_model", "read_lineage"]


class LineageError(LedgerError):
    """The chain has no usable lineage for what was asked."""


class ModelNotFoundError(LineageError):
    """No task on this market finalized (or started from) the model."""

    def __init__(self, cid: Cid) -> None:
        super().__init__(f"no task on this market finalized or started from model {cid}")
        self.cid = cid


def _events(market: FedMarket, name: str, from_block: int, **filters: Any) -> list[dict[str, Any]]:
    return market.contract.events(name, from_block, **filters)


def _record_from_event(event: dict[str, Any], parent: ChainCid, budget: int,
                       updates: list[dict[str, Any]]) -> FinalizedRecord:
    """The event's record; ``parent`` is the previous round's final model per the events (or
    the genesis of ``TaskCreated``), ``budget`` the terms' (``TaskParams.round_budget``), the
    update commitment the contract's head after the counted updates (``counted_head``)."""
    a = event["args"]
    return FinalizedRecord(
        round=int(a["round"]), parent=parent,
        model=ChainCid(bytes(a["modelDigest"]), int(a["modelCodec"])),
        update_commitment=counted_head([u["args"] for u in updates], int(a["submissions"])),
        submissions=int(a["submissions"]),
        rewards_root=bytes(a["rewardsRoot"]), attempt=int(a["attempt"]), votes=int(a["votes"]),
        budget=budget, block=int(event["block_number"]),
    )


def _event_records(market: FedMarket, task: int, from_block: int, params: TaskParams,
                   created: TaskCreatedRecord | None,
                   resolved: dict[int, list[dict[str, Any]]],
                   updates: dict[int, list[dict[str, Any]]]) -> dict[int, FinalizedRecord]:
    """Each round's record per the events alone, chained parent to child, overturns applied."""
    records: dict[int, FinalizedRecord] = {}
    parent = created.genesis if created is not None else ChainCid.of(params.genesis)
    grouped = _by_round(_events(market, "ModelFinalized", from_block, task=task))
    for r in sorted(grouped):
        event = _record_from_event(grouped[r][-1], parent, params.round_budget(r), updates.get(r, []))
        record = _overturned(event, resolved.get(r, []))
        records[r] = record
        parent = record.model
    return records


def _record_from_view(round_: int, t: Sequence[Any]) -> FinalizedRecord:
    # IFedMarket.FinalizedRound field order
    return FinalizedRecord(
        round=round_, parent=ChainCid(bytes(t[0]), int(t[1])), model=ChainCid(bytes(t[2]), int(t[3])),
        update_commitment=None, submissions=int(t[5]), rewards_root=bytes(t[4]),
        attempt=int(t[6]), votes=int(t[7]), budget=int(t[10]), finalized_at=int(t[8]),
    )


def _overturned(record: FinalizedRecord, resolved: list[dict[str, Any]]) -> FinalizedRecord:
    """The record with its dispute's result applied (``DisputeResolved``, outcome Overturned)."""
    for event in resolved:
        a = event["args"]
        if int(a["outcome"]) == 3:
            record = replace(record, model=ChainCid(bytes(a["modelDigest"]), int(a["modelCodec"])),
                             rewards_root=bytes(a["rewardsRoot"]))
    return record


def _committees(market: FedMarket, task: int, from_block: int, members: Sequence[str],
                stakes: Sequence[int]) -> dict[tuple[int, int], tuple[str, ...]]:
    """Seat owners of every locked draw, rebuilt from ``Joined`` and ``SeedLocked`` events."""
    k = None
    draws = {}
    for e in _events(market, "SeedLocked", from_block, task=task):
        a = e["args"]
        if k is None:
            k = int(market.contract.call("taskInfo", task)[0][9])
        draws[int(a["round"]), int(a["attempt"])] = tuple(seat_owners(bytes(a["seed"]), k, members, stakes))
    return draws


def _cohorts(market: FedMarket, task: int, from_block: int, members: Sequence[str],
             size: int) -> dict[int, Cohort]:
    """Each round's drawn trainers, rebuilt from ``Joined`` and ``CohortDrawn`` events."""
    if size == 0:
        return {}
    cohorts = {}
    for e in _events(market, "CohortDrawn", from_block, task=task):
        a = e["args"]
        seed, counted = bytes(a["seed"]), int(a["members"])
        view = bytes(market.contract.call("cohortSeed", task, int(a["round"])))
        cohorts[int(a["round"])] = Cohort(
            seed=seed, members=counted, size=int(a["size"]), view_seed=view,
            drawn=tuple(cohort_members(seed, members[:counted], size)))
    return cohorts


def _view_record(market: FedMarket, task: int, round_: int) -> FinalizedRecord | None:
    try:
        return _record_from_view(round_, market.contract.call("finalizedRound", task, round_))
    except ContractCustomError as err:
        if err.error_name == "FedMarketRoundNotFinalized":
            return None
        raise


def _describe(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _disagreements(view: FinalizedRecord | None, event: FinalizedRecord | None) -> tuple[str, ...]:
    if view is None and event is None:
        return ()
    if view is None:
        return ("finalization: an event says the round is final, the view says it is not",)
    if event is None:
        return ("finalization: the view says the round is final, no ModelFinalized event",)
    return tuple(f"{name}: view {_describe(getattr(view, name))}, "
                 f"event {_describe(getattr(event, name))}"
                 for name in view.differences(event))


def _votes(committed: Iterable[dict[str, Any]], revealed: Iterable[dict[str, Any]]) -> tuple[Vote, ...]:
    """One vote per (member, attempt), in order of first appearance (commits come first)."""
    votes: dict[tuple[str, int], dict[str, Any]] = {}
    for e in committed:
        a = e["args"]
        votes.setdefault((a["member"], int(a["attempt"])), {})["commitment"] = bytes(a["commitment"])
    for e in revealed:
        a = e["args"]
        votes.setdefault((a["member"], int(a["attempt"])), {}).update(
            model=ChainCid(bytes(a["modelDigest"]), int(a["modelCodec"])),
            rewards_root=bytes(a["rewardsRoot"]), tally=int(a["votes"]))
    return tuple(Vote(member=member, attempt=attempt, commitment=v.get("commitment"),
                      model=v.get("model"), rewards_root=v.get("rewards_root"), tally=v.get("tally"))
                 for (member, attempt), v in votes.items())


def _by_round(events: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        grouped[int(e["args"]["round"])].append(e)
    return grouped


def _created(market: FedMarket, task: int, from_block: int) -> TaskCreatedRecord | None:
    events = _events(market, "TaskCreated", from_block, task=task)
    if not events:
        return None
    a, block = events[0]["args"], events[0]["block_number"]
    t = tuple(a["params"].values())  # web3 decodes the struct as a name -> value mapping, in ABI order
    return TaskCreatedRecord(
        requester=a["requester"], token=a["token"], bounty=int(t[5]),
        manifest=ChainCid(bytes(t[0]), int(t[1])), genesis=ChainCid(bytes(t[2]), int(t[3])),
        start_time=int(a["startTime"]), block=int(block), params=TaskParams.from_abi(t),
    )


def _task_disagreements(info: TaskInfo, created: TaskCreatedRecord | None) -> tuple[str, ...]:
    if created is None:
        return ("creation: taskInfo knows the task, no TaskCreated event",)
    p = info.params
    pairs = [("manifest", ChainCid.of(p.manifest), created.manifest),
             ("genesis", ChainCid.of(p.genesis), created.genesis),
             ("bounty", p.bounty, created.bounty), ("requester", info.requester, created.requester),
             ("token", p.token, created.token), ("start_time", info.start_time, created.start_time),
             ("terms", p, created.params)]
    return tuple(f"{name}: view {_describe(v)}, event {_describe(e)}"
                 for name, v, e in pairs if v != e)


def _task_info(market: FedMarket, task: int) -> TaskInfo:
    try:
        params, requester, start = market.contract.call("taskInfo", task)
        return TaskInfo(TaskParams.from_abi(params), requester, int(start))
    except InvalidCidError as err:
        raise LineageError(f"task {task}: its manifest or genesis is not a valid CID: {err}") from err


def read_lineage(market: FedMarket, task: int, *, from_block: int = 0,
                 upto_round: int | None = None) -> TaskLineage:
    """Read every finalized round of ``task`` (up to ``upto_round``) from views and events.

    Args:
        market: the market (or a double with the same ``contract.events``/``contract.call``).
        task: the task id.
        from_block: where event scans start (the deployment block).
        upto_round: stop after this round (None: every finalized round).

    Raises:
        ContractCustomError: FedMarketUnknownTask.
        LineageError: the task's manifest or genesis CID is not a supported CID.
        RpcError: the endpoint could not be reached.
    """
    info = _task_info(market, task)
    created = _created(market, task, from_block)
    current = int(market.contract.call("currentRound", task))
    resolved = _by_round(_events(market, "DisputeResolved", from_block, task=task))
    updates = _by_round(_events(market, "UpdateSubmitted", from_block, task=task))
    finalized_events = _event_records(market, task, from_block, info.params, created, resolved,
                                      updates)
    joined = [e["args"] for e in _events(market, "Joined", from_block, task=task)]
    members = [a["participant"] for a in joined]
    committees = _committees(market, task, from_block, members, [int(a["stake"]) for a in joined])
    cohorts = _cohorts(market, task, from_block, members, info.params.cohort_size)
    view_count = min(current - 1, info.params.rounds)
    last = max([view_count, *finalized_events])
    if upto_round is not None:
        last = min(last, upto_round)
    committed = _by_round(_events(market, "Committed", from_block, task=task))
    revealed = _by_round(_events(market, "Revealed", from_block, task=task))
    claims = _by_round(_events(market, "RewardClaimed", from_block, task=task))
    slashes = _by_round(_events(market, "Slashed", from_block, task=task))
    fees = _by_round(_events(market, "FeeEarned", from_block, task=task))
    attested = _by_round(_events(market, "Attested", from_block, task=task))
    rounds = []
    for r in range(1, last + 1):
        view = _view_record(market, task, r) if r <= view_count else None
        event = finalized_events.get(r)
        if view is None and event is None:
            continue
        attempt = (view or event).attempt  # type: ignore[union-attr]
        paid = int(market.contract.call("roundPaid", task, r)) if view is not None else None
        rounds.append(RoundLineage(
            round=r, event=event, view=view,
            updates=tuple(Update.from_event(e["args"]) for e in updates.get(r, [])),
            votes=_votes(committed.get(r, []), revealed.get(r, [])),
            committee=committees.get((r, attempt), ()),
            claims=tuple(Claim(e["args"]["account"], int(e["args"]["amount"]), e["block_number"])
                         for e in claims.get(r, [])),
            paid=paid,
            slashes=tuple(Slash(e["args"]["member"], int(e["args"]["attempt"]),
                                int(e["args"]["amount"])) for e in slashes.get(r, [])),
            fees=tuple(Fee(e["args"]["member"], int(e["args"]["amount"])) for e in fees.get(r, [])),
            disagreements=_disagreements(view, event),
            dispute=next(((int(e["args"]["outcome"]), int(e["args"]["leaderSeats"]),
                           int(e["args"]["revealedSeats"])) for e in resolved.get(r, [])), (0, 0, 0)),
            attestations=tuple(Attestation.from_event(e["args"]) for e in attested.get(r, [])
                               if int(e["args"]["attempt"]) == attempt),
            cohort=cohorts.get(r),
        ))
    return TaskLineage(task=task, params=info.params, requester=info.requester,
                       start_time=info.start_time, created=created, current_round=current,
                       rounds=tuple(rounds), disagreements=_task_disagreements(info, created))


def locate_model(market: FedMarket, cid: Cid, *, from_block: int = 0) -> list[ModelLocation]:
    """Every (task, round) that finalized ``cid``, then every task whose genesis it is.

    Finalizations come first, in chain order; ``round == 0`` marks a genesis model. Two
    tasks may legitimately produce the same model (same manifest, same data), hence a list.

    Raises:
        ModelNotFoundError: no finalization and no task genesis matches.
        RpcError: the endpoint could not be reached.
    """
    found = [ModelLocation(int(e["args"]["task"]), int(e["args"]["round"]))
             for e in _events(market, "ModelFinalized", from_block, modelDigest=cid.digest)
             if int(e["args"]["modelCodec"]) == cid.codec]
    # genesisDigest is not indexed: scan task creations (one per task, few).
    found += [ModelLocation(int(e["args"]["task"]), 0)
              for e in _events(market, "TaskCreated", from_block)
              if bytes(e["args"]["params"]["genesisDigest"]) == cid.digest
              and int(e["args"]["params"]["genesisCodec"]) == cid.codec]
    if not found:
        raise ModelNotFoundError(cid)
    return found
