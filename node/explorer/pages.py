"""The explorer's pages as template contexts, built from one snapshot.

Three pages: every task (``/``), one task (terms, phase and countdown, members, per-round
progress, committee votes, disputes, the lineage graph, metrics, contributors) and one model
(its round, parent, updates, votes, rewards and audit status). The lineage graph, the plot and
the contributors' table are the static audit page's own partials (``node.audit.views``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ledger.market_types import Phase
from node.audit.views import (
    COLORS,
    contributors,
    lineage_graph,
    metrics_plot,
    round_plot,
    short_cid,
)
from node.explorer.snapshot import Snapshot, TaskSnapshot, phase_deadline

__all__ = ["PageNotFound", "model_href", "model_page", "task_page", "tasks_page"]


class PageNotFound(LookupError):
    """No such task or model on this deployment."""


def model_href(task: int, cid: str) -> str:
    return f"/task/{task}/model/{quote(cid)}"


def _common(snapshot: Snapshot) -> dict[str, Any]:
    return {"block": snapshot.block, "chain_time": snapshot.chain_time,
            "error": snapshot.error, "version": snapshot.version, "colors": COLORS,
            "short": short_cid}


def tasks_page(snapshot: Snapshot) -> dict[str, Any]:
    rows = [t.listing.to_dict() for t in snapshot.tasks.values()]
    return {**_common(snapshot), "title": "fedledger tasks", "tasks": rows}


def _task(snapshot: Snapshot, task: int) -> TaskSnapshot:
    if task not in snapshot.tasks:
        raise PageNotFound(f"no task {task} on this deployment (block {snapshot.block})")
    return snapshot.tasks[task]


def _metrics_plot(t: TaskSnapshot, eval_source: str | None) -> dict[str, Any]:
    if not t.metrics:
        why = "no evaluation data given (--eval-data)" if eval_source is None else "none yet"
        return round_plot(f"metrics per round: {why}", {})
    return metrics_plot(t.metrics, eval_source or "the evaluation rows")


def task_page(snapshot: Snapshot, task: int, *, eval_source: str | None = None) -> dict[str, Any]:
    t = _task(snapshot, task)
    s, params = t.state, t.listing.params
    rounds = list(t.lineage.rounds)
    table = contributors(rounds, t.token)
    by_account = {row["account"]: row for row in table}
    members = []
    for account in t.members:  # a member with no update, claim, fee or slash yet has no row
        row = by_account.get(account, {})
        members.append({"account": account, "updates": row.get("updates", 0),
                        **{k: row.get(k + "_text", t.amount(0))
                           for k in ("claimed", "fees", "slashed")}})
    progress = []
    for r in rounds:
        d = t.round_dict(r)
        agreeing = sum(1 for v in d["votes"] if v["agrees"])
        progress.append({**d, "href": model_href(task, d["model"]), "agreeing": agreeing,
                         "paid_text": t.amount(sum(c["amount"] for c in d["claims"])),
                         "budget_text": t.amount(d["budget"])})
    running = s.phase not in (Phase.FINISHED, Phase.CLOSED, Phase.CANCELLED)
    return {
        **_common(snapshot), "title": f"task {task}", "task": task, "t": t,
        "listing": t.listing.to_dict(), "phase": s.phase.name, "round": s.round,
        "rounds_total": params.rounds, "rounds_done": t.listing.rounds_done,
        "attempt": s.attempt, "submissions": s.submissions, "running": running,
        "deadline": phase_deadline(s) if running else None,
        "terms": [("requester", t.listing.requester), ("bounty", t.amount(params.bounty)),
                  ("minimum stake", t.amount(params.min_stake)),
                  ("members / cap", f"{len(t.members)} / {params.max_participants}"),
                  ("rounds", params.rounds), ("manifest", str(params.manifest)),
                  ("genesis", str(t.lineage.genesis)),
                  ("privacy", t.listing.privacy or "unknown (manifest not fetched)")],
        "members": members, "progress": progress,
        "graph": lineage_graph(str(t.lineage.genesis), rounds,
                               failed=[r.round for r in rounds if t.audit_failures(r.round)],
                               href=lambda cid: model_href(task, cid)),
        "plot": _metrics_plot(t, eval_source), "contributors": table, "show_replayed": False,
    }


def model_page(snapshot: Snapshot, task: int, cid: str) -> dict[str, Any]:
    t = _task(snapshot, task)
    base = {**_common(snapshot), "title": f"model {short_cid(cid)}", "task": task, "cid": cid,
            "t": t}
    if cid == str(t.lineage.genesis):
        first = t.lineage.rounds[0] if t.lineage.rounds else None
        return {**base, "round": 0, "genesis": True, "detail": None, "parent_href": None,
                "child_href": model_href(task, str(first.record.model)) if first else None,
                "claims": [], "slashes": [], "fees": [], "metrics": t.metrics.get(0)}
    r = t.round_of(cid)
    if r is None:
        raise PageNotFound(f"{cid} is not a model of task {task}")
    d = t.round_dict(r)
    nxt = t.lineage.rounds[r.round] if r.round < len(t.lineage.rounds) else None
    return {**base, "round": r.round, "genesis": False, "detail": d,
            "parent_href": model_href(task, d["parent"]),
            "child_href": model_href(task, str(nxt.record.model)) if nxt else None,
            "claims": [{**c, "text": t.amount(c["amount"])} for c in d["claims"]],
            "slashes": [{**x, "text": t.amount(x["amount"])} for x in d["slashes"]],
            "fees": [{**f, "text": t.amount(f["amount"])} for f in d["fees"]],
            "metrics": t.metrics.get(r.round)}
