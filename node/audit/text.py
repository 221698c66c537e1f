"""Text renderings of an ``AuditReport``: the human tree and the JSON for scripts.

The tree reads top-down like the lineage itself: task, then each round with its parent,
model, updates (submitter, CID, samples), committee votes and rewards; every check sits
next to what it is about, marked ``✔`` or ``✗``. Failures are repeated at the end with
where they happened, so a long tree never hides one.
"""

from __future__ import annotations

import json
from collections import defaultdict

from ledger.audit_report import AuditReport, Check
from ledger.lineage_types import RoundLineage, Vote

__all__ = ["FAIL", "OK", "render_json", "render_summary", "render_tree"]

OK = "✔"
FAIL = "✗"


def _mark(ok: bool) -> str:
    return OK if ok else FAIL


def _wei(amount: int) -> str:
    return f"{amount / 10**18:.6g} ETH" if amount >= 10**12 else f"{amount} wei"


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def _check_line(check: Check) -> str:
    return f"{_mark(check.ok)} {check.name}: {check.detail}"


def _group(head: str, children: list[str]) -> list[str]:
    """A tree item with ``children`` drawn as its own branches."""
    item = [head]
    _branch(item, [[child] for child in children])
    return item


def _vote_line(r: RoundLineage, vote: Vote) -> str:
    rec = r.record
    if not vote.revealed:
        what = "committed, never revealed"
    elif vote.agrees_with(rec):
        what = "revealed the finalized result"
    else:
        what = f"revealed another result: {vote.model} root 0x{(vote.rewards_root or b'').hex()[:12]}…"
    slashed = sum(s.amount for s in r.slashes if s.member == vote.member and s.attempt == vote.attempt)
    return (f"{_short(vote.member)} attempt {vote.attempt}: {what}"
            + (f"  slashed {_wei(slashed)}" if slashed else ""))


def _round_items(report: AuditReport, r: RoundLineage) -> list[list[str]]:
    rec = r.record
    checks = report.checks_of(r.round)
    by_where: dict[str, list[Check]] = defaultdict(list)
    for c in checks:
        by_where[c.where].append(c)
    items = [[f"parent {rec.parent}"], [f"model  {rec.model}" + "".join(
        f"  {_mark(c.ok)} fetched" for c in checks if c.name == "artifact.model")]]
    items += [[_check_line(c)] for c in checks
              if not c.name.startswith("artifact.") and c.name != "target.located"]
    where = f"task {report.lineage.task} round {r.round}"
    excluded = {who: why for who, why in report.round_info.get(r.round, {}).get("excluded", [])}
    updates = []
    for i, u in enumerate(r.updates):
        fetched = by_where.get(f"{where} update #{i} by {u.participant}", [])
        marks = "".join(f"  {_mark(c.ok)} fetched" for c in fetched)
        why = f"  excluded: {excluded[u.participant]}" if u.participant in excluded else ""
        updates.append(f"#{i} {_short(u.participant)} {u.cid or '<invalid cid>'} "
                       f"{u.num_samples} samples{marks}{why}")
    items.append(_group(f"updates ({len(r.updates)}, commitment "
                        f"0x{rec.update_commitment.hex()[:12]}…)", updates))
    items.append(_group(f"votes (attempt {rec.attempt}, committee {len(r.committee)}, quorum "
                        f"{report.lineage.params.quorum})", [_vote_line(r, v) for v in r.votes]))
    paid = sum(c.amount for c in r.claims)
    items.append(_group(f"rewards root 0x{rec.rewards_root.hex()[:16]}…  budget {_wei(rec.budget)}"
                        f"  claimed {_wei(paid)} in {len(r.claims)} claims",
                        [f"{_short(c.account)} claimed {_wei(c.amount)}" for c in r.claims]))
    metrics = report.round_info.get(r.round, {}).get("metrics")
    if metrics:
        items.append(["metrics " + "  ".join(
            f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in metrics.items() if v is not None)])
    return items


def _branch(lines: list[str], items: list[list[str]]) -> None:
    for index, item in enumerate(items):
        last = index == len(items) - 1
        lines.append(("└─ " if last else "├─ ") + item[0])
        lines += [("   " if last else "│  ") + rest for rest in item[1:]]


def render_tree(report: AuditReport) -> str:
    """The whole report as an indented tree (one line per fact or check)."""
    lin, p = report.lineage, report.lineage.params
    head = (f"task {lin.task}  requester {lin.requester}  bounty {_wei(p.bounty)}  "
            f"{len(lin.rounds)}/{p.rounds} rounds finalized  committee {p.committee_size} "
            f"quorum {p.quorum}")
    items: list[list[str]] = [[_check_line(c)] for c in report.checks
                              if c.name == "target.located"]
    for c in report.checks_of(None):
        items.append([_check_line(c)])
    for c in report.checks_of(0):
        if c.name == "artifact.genesis":
            items.append([f"genesis {lin.genesis}  {_mark(c.ok)}"])
    items += [[_check_line(c)] for c in report.checks_of(0)
              if c.name not in ("artifact.genesis", "target.located")]
    for r in lin.rounds:
        if r.round > report.upto_round:
            break
        failed = any(not c.ok for c in report.checks_of(r.round))
        sub: list[str] = []
        _branch(sub, _round_items(report, r))
        items.append([f"round {r.round} {_mark(not failed)}", *sub])
    lines = [f"{_mark(report.ok)} audit of {report.target}", head]
    _branch(lines, items)
    lines.append(render_summary(report))
    return "\n".join(lines)


def render_summary(report: AuditReport) -> str:
    """One line when everything passed; otherwise every failure with where it happened."""
    total, failures = len(report.checks), report.failures
    if report.ok:
        return f"{OK} all {total} checks passed (task {report.lineage.task}, rounds 1..{report.upto_round})"
    lines = [f"{FAIL} {len(failures)} of {total} checks FAILED:"]
    lines += [f"  {FAIL} {c.where}: {c.name}: {c.detail}" for c in failures]
    return "\n".join(lines)


def render_json(report: AuditReport) -> str:
    """The report as indented JSON (``AuditReport.to_dict``)."""
    return json.dumps(report.to_dict(), indent=2, sort_keys=False)
