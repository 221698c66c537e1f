"""A task as a node or an auditor sees it: on-chain parameters plus the verified manifest."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.manifest import TaskManifest
from ledger.market import FedMarket
from ledger.market_types import TaskParams
from ledger.store import ContentStore

__all__ = ["TaskView", "load_task"]


@dataclass(frozen=True)
class TaskView:
    """Immutable facts about a task (fixed at creation).

    Attributes:
        task: the task id.
        params: the on-chain parameters.
        manifest: the manifest whose CID the chain holds, fetched and re-hashed.
        requester: who posted the bounty.
        start_time: when round 1's train phase opens (Unix seconds, chain time).
    """

    task: int
    params: TaskParams
    manifest: TaskManifest
    requester: str
    start_time: int


def load_task(market: FedMarket, store: ContentStore, task: int) -> TaskView:
    """Read ``task``'s parameters and fetch its manifest.

    Raises:
        ContractCustomError: FedMarketUnknownTask.
        ContentError: the manifest cannot be fetched or does not match its CID.
        ManifestError: the manifest does not validate.
    """
    info = market.task_info(task)
    manifest = TaskManifest.from_json_bytes(store.get(info.params.manifest))
    return TaskView(task=task, params=info.params, manifest=manifest,
                    requester=info.requester, start_time=info.start_time)
