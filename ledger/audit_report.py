"""What an audit found: named checks, the lineage they were made on, and a fetch cache.

A ``Check`` says what was checked, where (task, round, role, participant) and why it
passed or failed, so a failure can be printed as is. ``AuditReport.ok`` is True only
when there is at least one check and every check passed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ledger.cid import Cid
from ledger.lineage_types import ModelLocation, TaskLineage, to_jsonable
from ledger.manifest import TaskManifest
from ledger.store import ContentStore

__all__ = ["ArtifactCache", "AuditReport", "Check"]


@dataclass(frozen=True)
class Check:
    """One verified (or failed) fact.

    Attributes:
        name: what was checked, e.g. ``"parent-link"`` or ``"artifact.update"``.
        ok: whether it holds.
        where: a human location, e.g. ``"task 1 round 2 update #0 by 0xAb…"``.
        detail: what was seen (on failure: what was expected and what was found).
        round: the round it belongs to (None: the task as a whole; 0: the genesis).
    """

    name: str
    ok: bool
    where: str
    detail: str
    round: int | None = None


@dataclass
class AuditReport:
    """The outcome of auditing one task up to one round.

    Attributes:
        target: what was asked (a model CID or ``"task N"``).
        lineage: the lineage read from the chain.
        upto_round: the last round audited (0: only the genesis).
        checks: every check, in the order made (``node.audit.replay`` appends its own).
        locations: for a model target, every (task, round) that produced it.
        manifest: the task manifest when it could be fetched and parsed.
        round_info: per-round extras added by later stages (replay results, metrics),
            JSON-ready.
    """

    target: str
    lineage: TaskLineage
    upto_round: int
    checks: list[Check] = field(default_factory=list)
    locations: tuple[ModelLocation, ...] = ()
    manifest: TaskManifest | None = None
    round_info: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, name: str, ok: bool, where: str, detail: str, round_: int | None = None) -> Check:
        check = Check(name, bool(ok), where, detail, round_)
        self.checks.append(check)
        return check

    def checks_of(self, round_: int | None) -> list[Check]:
        return [c for c in self.checks if c.round == round_]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form of the whole report."""
        return {
            "ok": self.ok,
            "target": self.target,
            "task": self.lineage.task,
            "upto_round": self.upto_round,
            "checks": [asdict(c) for c in self.checks],
            "failures": [asdict(c) for c in self.failures],
            "locations": [asdict(loc) for loc in self.locations],
            "manifest": self.manifest.to_dict() if self.manifest is not None else None,
            "lineage": self.lineage.to_dict(),
            "round_info": {str(k): to_jsonable(v) for k, v in sorted(self.round_info.items())},
        }


class ArtifactCache(ContentStore):
    """A read-through cache in front of a store, so the audit and the replay fetch once.

    Only verified content is cached (the inner store re-hashes on every ``get``); a
    failed fetch is not remembered and raises again next time.
    """

    def __init__(self, inner: ContentStore) -> None:
        self.inner = inner
        self._content: dict[Cid, bytes] = {}

    def get(self, cid: Cid) -> bytes:
        """Raises: ContentError: from the inner store (missing, tampered, unreachable)."""
        if cid not in self._content:
            self._content[cid] = self.inner.get(cid)
        return self._content[cid]

    def put(self, data: bytes) -> Cid:
        return self.inner.put(data)

    def has(self, cid: Cid) -> bool:
        return cid in self._content or self.inner.has(cid)

    def pin(self, cid: Cid) -> None:
        self.inner.pin(cid)

    def close(self) -> None:
        self.inner.close()
