"""``fedledger node status``: a member's standing, with what the chain alone cannot say.

``ledger.member_status`` reads stake, slashes, submissions, seats, votes and claims from the
chain. This adds the two things a node computes: what it may still claim (each settled round
it has not claimed, recomputed exactly as its committee did, counted only when the result
matches the finalized rewards root) and its personal model's metrics, read from its own
directory (``node.runtime.personal_model``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledger.availability import not_counted
from ledger.errors import LedgerError
from ledger.lineage import read_lineage
from ledger.market import FedMarket
from ledger.member_status import member_status
from ledger.store import ContentStore
from ledger.task_view import load_task
from ledger.units import format_amount
from node.errors import NodeError
from node.runtime.committee import compute_round
from node.runtime.node_home import read_checked
from node.runtime.personal_model import read_report

__all__ = ["node_status", "render_status"]


def _claimable(market: FedMarket, store: ContentStore, task: int, account: str,
               rounds: list[dict[str, Any]]) -> tuple[int, dict[int, int], str | None]:
    """(total, round -> amount, why it is unknown) of settled rounds not claimed yet."""
    view = load_task(market, store, task)
    if view.manifest.privacy == "secure":
        return 0, {}, "secure task: recompute with `fedledger audit --replay`"
    found: dict[int, int] = {}
    for duty in rounds:
        if not duty["settled"] or duty["claimed"] or not duty["submitted"]:
            continue
        round_ = duty["round"]
        entry = market.finalized_round(task, round_)
        updates = market.updates(task, round_)
        skipped = not_counted(market, task, round_, entry.attempt, updates, view.params.quorum)
        try:
            outcome = compute_round(view.manifest, view.params, round_, store.get(entry.parent),
                                    updates, store.get, not_counted=skipped)
        except (LedgerError, NodeError) as err:
            return sum(found.values()), found, f"round {round_} cannot be recomputed: {err}"
        if outcome.rewards_root == entry.rewards_root and outcome.amount_of(account):
            found[round_] = outcome.amount_of(account)
    return sum(found.values()), found, None


def node_status(market: FedMarket, store: ContentStore, task: int, account: str, *,
                home: str | Path | None = None, from_block: int = 0,
                claimable: bool = True) -> dict[str, Any]:
    """``account``'s standing in ``task`` as a JSON-ready dict (see the module docstring).

    Raises:
        ContractCustomError: FedMarketUnknownTask.
        RpcError: the chain cannot be reached.
    """
    lineage = read_lineage(market, task, from_block=from_block)
    status = member_status(market, lineage, account, from_block=from_block).to_dict()
    token = lineage.params.token
    if claimable:
        total, per_round, why = _claimable(market, store, task, status["account"],
                                           status["rounds"])
        status.update({"claimable": total, "claimable_text": format_amount(total, token),
                       "claimable_rounds": per_round, "claimable_unknown": why})
    status["personal_model"] = read_report(home, task) if home is not None else None
    status["checked_round"] = read_checked(home, task) if home is not None else None
    return status


def render_status(status: dict[str, Any]) -> str:
    """The status as a few lines a person reads."""
    lines = [f"task {status['task']}  member {status['account']}"]
    if not status["is_member"]:
        return lines[0] + "\n  not a member of this task"
    lines += [
        (f"  stake      {status['stake_text']} (balance now {status['balance_text']}, "
         f"slashed {status['slashed_text']}, withdrawn {status['withdrawn_text']})"),
        f"  submitted  rounds {status['submitted_rounds'] or 'none'}",
        (f"  committee  {status['seats']} seats, {status['votes']} reveals, "
         f"{status['votes_agreeing']} agreeing with the finalized result"),
        f"  rewards    claimed {status['claimed_text']}"
        + (f", claimable {status['claimable_text']}" if "claimable" in status else ""),
    ]
    if status.get("checked_round") is not None:
        lines.append(f"  checked    finalized rounds up to {status['checked_round']} recomputed "
                     "by this node")
    if status.get("claimable_unknown"):
        lines.append(f"             ({status['claimable_unknown']})")
    personal = status.get("personal_model")
    if personal and "personal" in personal:
        g, p = personal["global"], personal["personal"]
        lines.append(f"  personal   on {personal['held_out_rows']} held-out rows: accuracy "
                     f"{p['accuracy']:.4f} (global {g['accuracy']:.4f}), loss {p['loss']:.5f} "
                     f"(global {g['loss']:.5f})")
    elif personal:
        lines.append(f"  personal   {personal.get('skipped', 'none')}")
    return "\n".join(lines)
