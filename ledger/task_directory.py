"""Every task on a deployment, as a row a person choosing a task to join reads.

Rebuilt from the market's events (``TaskCreated``: the terms; ``Joined``: the members) and one
``roundState`` view per task (phase and round now), so it needs no index server: any node of
the chain answers it. The privacy mode lives in the manifest, not on chain; it is filled in
when a content store is given and the manifest can be fetched (and is None otherwise: a
listing must not fail because one requester's manifest is unreachable).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from ledger.content_errors import ContentError
from ledger.manifest import ManifestError, TaskManifest
from ledger.market import FedMarket
from ledger.market_types import Phase, TaskParams
from ledger.store import ContentStore
from ledger.units import format_amount

__all__ = ["TaskListing", "list_tasks"]


@dataclass(frozen=True)
class TaskListing:
    """One task as ``fedledger task list`` shows it.

    Attributes:
        task: the task id.
        requester: who posted the bounty.
        params: the terms (``TaskCreated``).
        phase: the phase now (``roundState``).
        round: the round being worked on (``rounds + 1`` once finished).
        rounds_done: finalized rounds.
        members: members so far.
        privacy: the manifest's privacy mode (``"open"``/``"secure"``), None when unknown.
        epsilon_dp: whether the manifest asks for differential privacy (None when unknown).
        join_seconds_left: chain seconds until joining closes (0 once it is closed).
        created_block: the ``TaskCreated`` block.
    """

    task: int
    requester: str
    params: TaskParams
    phase: Phase
    round: int
    rounds_done: int
    members: int
    privacy: str | None
    epsilon_dp: bool | None
    join_seconds_left: int
    created_block: int

    @property
    def open(self) -> bool:
        """Whether a newcomer can join now: joining window open and a seat left."""
        return self.join_seconds_left > 0 and self.members < self.params.max_participants

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: amounts both in their smallest unit (exact) and as text."""
        p = self.params
        return {
            "task": self.task, "requester": self.requester, "token": p.token,
            "bounty": p.bounty, "bounty_text": format_amount(p.bounty, p.token),
            "min_stake": p.min_stake, "min_stake_text": format_amount(p.min_stake, p.token),
            "rounds": p.rounds, "rounds_done": self.rounds_done, "round": self.round,
            "phase": self.phase.name, "members": self.members,
            "max_participants": p.max_participants, "privacy": self.privacy,
            "dp": self.epsilon_dp, "join_seconds_left": self.join_seconds_left,
            "open": self.open, "manifest": str(p.manifest), "created_block": self.created_block,
        }


def _manifest(store: ContentStore | None, params: TaskParams) -> TaskManifest | None:
    if store is None:
        return None
    try:
        return TaskManifest.from_json_bytes(store.get(params.manifest))
    except (ContentError, ManifestError):
        return None


def list_tasks(market: FedMarket, store: ContentStore | None = None, *, from_block: int = 0,
               open_only: bool = False) -> list[TaskListing]:
    """Every task of ``market`` in id order (only joinable ones with ``open_only``).

    Raises:
        RpcError: the chain cannot be reached.
    """
    now = int(market.w3.eth.get_block("latest")["timestamp"])
    joined = Counter(int(e["args"]["task"])
                     for e in market.contract.events("Joined", from_block))
    rows = []
    for event in market.contract.events("TaskCreated", from_block):
        args = event["args"]
        task = int(args["task"])
        params = TaskParams.from_abi(tuple(args["params"].values()))
        state = market.round_state(task)
        start = int(args["startTime"])
        joining = state.phase == Phase.PENDING and state.round == 1
        manifest = _manifest(store, params)
        row = TaskListing(
            task=task, requester=args["requester"], params=params, phase=state.phase,
            round=state.round, rounds_done=min(state.round - 1, params.rounds),
            members=joined[task], privacy=manifest.privacy if manifest else None,
            epsilon_dp=(manifest.dp is not None) if manifest else None,
            join_seconds_left=max(start - now, 0) if joining else 0,
            created_block=int(event["block_number"]))
        if row.open or not open_only:
            rows.append(row)
    return sorted(rows, key=lambda r: r.task)
