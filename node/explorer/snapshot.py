"""What the explorer shows, read from the chain and the store at one block.

A ``Snapshot`` is rebuilt by the watcher (``node.explorer.watcher``) whenever the chain moves;
pages and the JSON API only read it, so a request never waits on the chain. Everything comes
from events and views any node of the chain answers (``ledger.task_directory``,
``ledger.lineage``), the audit status from the chain-only auditor (``ledger.audit``, cached
per finalized round), and the metrics from evaluating each finalized model on rows named when
the explorer starts (``--eval-data``; none: no metrics, said on the page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledger.audit import audit_task
from ledger.audit_report import ArtifactCache, AuditReport
from ledger.errors import LedgerError
from ledger.lineage import read_lineage
from ledger.lineage_types import RoundLineage, TaskLineage
from ledger.market import FedMarket
from ledger.market_types import Phase, RoundState
from ledger.store import ContentStore
from ledger.task_directory import TaskListing, list_tasks
from ledger.units import format_amount

__all__ = ["DISPUTE_OUTCOMES", "Evaluator", "Snapshot", "SnapshotBuilder", "TaskSnapshot",
           "phase_deadline"]

# (task, model CID) -> {"accuracy": ..., "auc": ..., "loss": ..., "n": ...}
Evaluator = Callable[[int, str], dict[str, Any]]

DISPUTE_OUTCOMES = {0: None, 2: "upheld", 3: "overturned", 4: "inconclusive"}


@dataclass
class TaskSnapshot:
    """One task at one block: its listing row, current round, lineage, audit, metrics."""

    listing: TaskListing
    state: RoundState
    lineage: TaskLineage
    members: list[str]
    audit: AuditReport | None
    metrics: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def token(self) -> str:
        return self.listing.params.token

    def amount(self, wei: int) -> str:
        return format_amount(wei, self.token, places=6)

    def round_of(self, cid: str) -> RoundLineage | None:
        """The finalized round whose model is ``cid`` (None: not a round model here)."""
        return next((r for r in self.lineage.rounds if str(r.record.model) == cid), None)

    def audit_failures(self, round_: int) -> list[str]:
        """The failed checks of ``round_`` as text (empty: all passed, or not audited)."""
        if self.audit is None:
            return []
        return [f"{c.name}: {c.detail}" for c in self.audit.checks_of(round_) if not c.ok]

    def audited(self, round_: int) -> int:
        return 0 if self.audit is None else len(self.audit.checks_of(round_))

    def to_dict(self) -> dict[str, Any]:
        """The JSON API's view of the task (amounts exact in the smallest unit)."""
        s = self.state
        return {
            **self.listing.to_dict(),
            "attempt": s.attempt, "submissions": s.submissions,
            "deadlines": {"train": s.train_end, "attest": s.attest_end,
                          "commit": s.commit_end, "reveal": s.reveal_end},
            "genesis": str(self.lineage.genesis), "members_list": self.members,
            "rounds_detail": [self.round_dict(r) for r in self.lineage.rounds],
        }

    def round_dict(self, r: RoundLineage) -> dict[str, Any]:
        record = r.record
        return {
            "round": r.round, "model": str(record.model), "parent": str(record.parent),
            "attempt": record.attempt, "submissions": record.submissions,
            "updates": [{"participant": u.participant, "cid": str(u.cid),
                         "samples": u.num_samples} for u in r.updates],
            "committee": list(r.committee),
            "votes": [{"member": v.member, "attempt": v.attempt, "revealed": v.revealed,
                       "model": str(v.model) if v.model else None,
                       "agrees": v.agrees_with(record)} for v in r.votes],
            "claims": [{"account": c.account, "amount": c.amount} for c in r.claims],
            "paid": r.paid, "budget": record.budget,
            "slashes": [{"member": x.member, "amount": x.amount} for x in r.slashes],
            "fees": [{"member": f.member, "amount": f.amount} for f in r.fees],
            "dispute": DISPUTE_OUTCOMES.get(r.dispute[0], str(r.dispute[0])),
            "audit_checks": self.audited(r.round), "audit_failures": self.audit_failures(r.round),
            "metrics": self.metrics.get(r.round),
        }


@dataclass
class Snapshot:
    """Every task at ``block`` (``error``: why the chain could not be read, last good data)."""

    block: int = 0
    chain_time: int = 0
    tasks: dict[int, TaskSnapshot] = field(default_factory=dict)
    error: str | None = None
    version: int = 0


class SnapshotBuilder:
    """Builds snapshots, keeping what never changes once final (audits, metrics) cached."""

    def __init__(self, market: FedMarket, store: ContentStore, *, from_block: int = 0,
                 evaluator: Evaluator | None = None) -> None:
        self.market, self.from_block, self.evaluator = market, from_block, evaluator
        self.store = ArtifactCache(store)  # models and updates are immutable: fetch once
        self._audits: dict[tuple[int, int], AuditReport] = {}
        self._metrics: dict[tuple[int, str], dict[str, Any]] = {}

    def build(self, block: int, chain_time: int) -> Snapshot:
        """Read every task now.

        Raises:
            LedgerError: the chain cannot be read (the watcher keeps the last snapshot).
        """
        tasks = {}
        for listing in list_tasks(self.market, self.store, from_block=self.from_block):
            tasks[listing.task] = self._task(listing)
        return Snapshot(block=block, chain_time=chain_time, tasks=tasks)

    def _task(self, listing: TaskListing) -> TaskSnapshot:
        task = listing.task
        lineage = read_lineage(self.market, task, from_block=self.from_block)
        snap = TaskSnapshot(listing, self.market.round_state(task), lineage,
                            self.market.members(task), self._audit(task, lineage))
        for r in [None, *lineage.rounds]:
            round_ = 0 if r is None else r.round
            cid = str(lineage.genesis if r is None else r.record.model)
            metrics = self._evaluate(task, cid)
            if metrics is not None:
                snap.metrics[round_] = metrics
        return snap

    def _audit(self, task: int, lineage: TaskLineage) -> AuditReport | None:
        # A round is audited again only when a new one is finalized (a dispute can still
        # overturn the newest; its window is short and the next finalization re-audits).
        key = (task, len(lineage.rounds))
        if key not in self._audits:
            try:
                self._audits[key] = audit_task(self.market, self.store, task,
                                               from_block=self.from_block)
            except LedgerError:
                return None
        return self._audits[key]

    def _evaluate(self, task: int, cid: str) -> dict[str, Any] | None:
        if self.evaluator is None:
            return None
        key = (task, cid)
        if key in self._metrics:
            return self._metrics[key]
        metrics = self.evaluator(task, cid)
        if "error" not in metrics:  # a fetch that failed now may work on the next block
            self._metrics[key] = metrics
        return metrics


def phase_deadline(state: RoundState) -> int | None:
    """When the current phase ends (chain seconds), None once the task is over."""
    return {Phase.PENDING: state.attempt_start, Phase.TRAIN: state.train_end,
            Phase.ATTEST: state.attest_end, Phase.COMMIT: state.commit_end,
            Phase.REVEAL: state.reveal_end}.get(state.phase)
