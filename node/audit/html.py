"""``fedledger audit --html FILE``: one self-contained page (inline SVG and CSS, no assets).

Three parts: the lineage graph (genesis -> each round's model, the updates feeding each
round, red where a check failed), a per-round plot (the evaluation metrics when the audit
evaluated the models, else submissions and excluded updates per round), and tables of the
contributors' rewards and of every check.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from ledger.audit_report import AuditReport
from ledger.lineage_types import RoundLineage

__all__ = ["render_html", "write_html"]

_COLORS = {"green": "#2e7d32", "red": "#c62828", "grey": "#607d8b", "blue": "#1565c0"}
_TEMPLATE = "lineage.html.j2"


@cache
def _environment() -> jinja2.Environment:
    # Autoescaping: participant names, CIDs and check details come from the chain and the
    # store, i.e. from anyone; none of them may become markup.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("node.audit", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _short(text: str, n: int = 10) -> str:
    return text if len(text) <= 2 * n else f"{text[:n]}…{text[-4:]}"


def _failed(report: AuditReport, round_: int) -> bool:
    return any(not c.ok for c in report.checks_of(round_))


def _graph(report: AuditReport, rounds: list[RoundLineage]) -> dict[str, Any]:
    """Model boxes left to right; each round's updates as dots above its box."""
    box_w, box_h, gap, top = 150, 44, 60, 90
    genesis_ok = all(c.ok for c in report.checks_of(0))
    genesis = str(report.lineage.genesis)
    boxes = [{"x": 20, "label": "genesis", "cid": genesis, "short": _short(genesis),
              "color": _COLORS["green" if genesis_ok else "red"], "arrow_from": None,
              "updates": [], "n_updates": None}]
    for i, r in enumerate(rounds, start=1):
        x = 20 + i * (box_w + gap)
        n = max(len(r.updates), 1)
        model = str(r.record.model)
        boxes.append({
            "x": x, "label": f"round {r.round}", "cid": model, "short": _short(model),
            "color": _COLORS["red" if _failed(report, r.round) else "green"],
            "arrow_from": x - gap, "n_updates": len(r.updates),
            "updates": [{"x": f"{x + (j + 0.5) * box_w / n:.1f}", "participant": u.participant,
                         "cid": str(u.cid), "samples": u.num_samples}
                        for j, u in enumerate(r.updates)]})
    return {"width": 20 + (len(rounds) + 1) * (box_w + gap), "height": top + box_h + 40,
            "top": top, "box_w": box_w, "box_h": box_h, "mid": top + box_h / 2, "boxes": boxes}


def _series(report: AuditReport, rounds: list[RoundLineage]) -> tuple[str, dict[str, list]]:
    info = report.round_info
    if any("metrics" in info.get(r, {}) for r in [0] + [x.round for x in rounds]):
        xs = [0] + [r.round for r in rounds]
        series = {key: [(x, info.get(x, {}).get("metrics", {}).get(key)) for x in xs]
                  for key in ("accuracy", "auc")}
        return "evaluation metrics per round (round 0 = genesis)", series
    series = {"submissions": [(r.round, len(r.updates)) for r in rounds],
              "excluded": [(r.round, len(info.get(r.round, {}).get("excluded", [])))
                           for r in rounds]}
    return "submissions and excluded updates per round", series


def _plot(report: AuditReport, rounds: list[RoundLineage]) -> dict[str, Any]:
    title, series = _series(report, rounds)
    w, h, pad = 520, 240, 40
    points = [(x, y) for s in series.values() for x, y in s if y is not None]
    if not points:
        return {"empty": True, "title": title}
    xmin, xmax = min(x for x, _ in points), max(x for x, _ in points)
    ymax = max(1.0, *(y for _, y in points))  # metrics live in [0, 1]; counts go higher

    def sx(x: float) -> float:
        return pad + (x - xmin) / max(xmax - xmin, 1) * (w - 2 * pad)

    def sy(y: float) -> float:
        return h - pad - y / ymax * (h - 2 * pad)

    lines = []
    for k, (name, values) in enumerate(series.items()):
        pts = [(sx(x), sy(y)) for x, y in values if y is not None]
        lines.append({"name": name, "color": (_COLORS["blue"], _COLORS["red"],
                                              _COLORS["green"])[k % 3],
                      "points": " ".join(f"{a:.1f},{b:.1f}" for a, b in pts),
                      "dots": [(f"{a:.1f}", f"{b:.1f}") for a, b in pts]})
    return {"empty": False, "title": title, "w": w, "h": h, "pad": pad,
            "ymax_y": sy(ymax) + 4, "ymax_label": f"{ymax:g}", "series": lines,
            "xticks": [{"x": sx(x) - 3, "label": x} for x in sorted({x for x, _ in points})]}


def _contributors(rounds: list[RoundLineage],
                  report: AuditReport) -> list[tuple[str, dict[str, int]]]:
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rounds:
        for u in r.updates:
            rows[u.participant]["updates"] += 1
            rows[u.participant]["samples"] += u.num_samples
        for c in r.claims:
            rows[c.account]["claimed"] += c.amount
        for f in r.fees:
            rows[f.member]["fees"] += f.amount
        for s in r.slashes:
            rows[s.member]["slashed"] += s.amount
        for who, amount in report.round_info.get(r.round, {}).get("rewards", []):
            rows[who]["replayed"] += amount
    return sorted(rows.items())


def render_html(report: AuditReport) -> str:
    """The report as one HTML document with inline SVG (no external assets)."""
    rounds = [r for r in report.lineage.rounds if r.round <= report.upto_round]
    return _environment().get_template(_TEMPLATE).render(
        title=f"fedledger audit of {report.target}", task=report.lineage.task,
        upto_round=report.upto_round, ok=report.ok, checks=report.checks,
        failures=report.failures, graph=_graph(report, rounds), plot=_plot(report, rounds),
        contributors=_contributors(rounds, report), colors=_COLORS)


def write_html(report: AuditReport, path: str | Path) -> Path:
    """Write ``render_html(report)`` to ``path``."""
    path = Path(path)
    path.write_text(render_html(report), encoding="utf-8")
    return path
