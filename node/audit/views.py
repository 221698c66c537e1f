"""What the lineage pages draw, as plain dicts for the shared templates (``templates/_*.j2``).

Both the static ``audit --html`` page and the live explorer (``node.explorer``) render a
task's lineage graph, a per-round plot and the contributors' table from these, so the two
never disagree on what a model, an amount or an axis looks like. Amounts are shown in ETH
(exact, ``ledger.units.format_amount``); the plot's vertical axis spans the data (a run whose
accuracy moves between 0.879 and 0.896 is not drawn flat on a 0-1 axis).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ledger.lineage_types import RoundLineage
from ledger.market_types import ETH
from ledger.units import format_amount

__all__ = ["COLORS", "axis", "contributors", "lineage_graph", "metrics_plot", "round_plot",
           "short_cid"]

COLORS = {"green": "#2e7d32", "red": "#c62828", "grey": "#607d8b", "blue": "#1565c0"}
_SERIES_COLORS = (COLORS["blue"], COLORS["red"], COLORS["green"])


def short_cid(text: str, n: int = 10) -> str:
    """``bafkreign7c…cygu``: enough to tell CIDs apart in a box."""
    return text if len(text) <= 2 * n else f"{text[:n]}…{text[-4:]}"


def lineage_graph(genesis: str, rounds: Sequence[RoundLineage], *, failed: Iterable[int] = (),
                  href: Callable[[str], str] | None = None) -> dict[str, Any]:
    """Model boxes left to right (genesis, then each round's model), each round's updates as
    dots above its box; rounds in ``failed`` (0: the genesis) red. ``href(cid)`` makes a box
    a link (the explorer's model page); None leaves the boxes plain (the static page)."""
    failed = set(failed)
    box_w, box_h, gap, top = 150, 44, 60, 90

    def box(x: int, label: str, cid: str, round_: int, arrow: int | None,
            r: RoundLineage | None) -> dict[str, Any]:
        updates = r.updates if r is not None else ()
        n = max(len(updates), 1)
        return {"x": x, "label": label, "cid": cid, "short": short_cid(cid), "round": round_,
                "href": href(cid) if href else None, "arrow_from": arrow,
                "color": COLORS["red" if round_ in failed else "green"],
                "n_updates": len(updates) if r is not None else None,
                "updates": [{"x": f"{x + (j + 0.5) * box_w / n:.1f}",
                             "participant": u.participant, "cid": str(u.cid),
                             "samples": u.num_samples} for j, u in enumerate(updates)]}

    boxes = [box(20, "genesis", genesis, 0, None, None)]
    for i, r in enumerate(rounds, start=1):
        x = 20 + i * (box_w + gap)
        boxes.append(box(x, f"round {r.round}", str(r.record.model), r.round, x - gap, r))
    return {"width": 20 + (len(rounds) + 1) * (box_w + gap), "height": top + box_h + 40,
            "top": top, "box_w": box_w, "box_h": box_h, "mid": top + box_h / 2, "boxes": boxes}


def axis(values: Sequence[float], *, from_zero: bool = False, ticks: int = 5) -> list[float]:
    """Round tick values covering ``values`` (1, 2 or 5 times a power of ten apart), starting
    at 0 when ``from_zero`` (counts) and else just below the smallest value (metrics)."""
    lo, hi = (0.0 if from_zero else min(values)), max(values)
    if hi == lo:
        lo, hi = (lo - 0.5, hi + 0.5) if not from_zero else (0.0, max(hi, 1.0))
    raw = (hi - lo) / max(ticks - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    count = math.ceil(round((hi - first) / step, 9)) + 1
    return [round(first + i * step, 12) for i in range(count)]


def round_plot(title: str, series: Mapping[str, Sequence[tuple[int, float | None]]], *,
               from_zero: bool = False) -> dict[str, Any]:
    """An SVG line plot of ``{name: [(round, value or None)]}`` with a fitted y axis."""
    w, h, pad = 560, 260, 48
    points = [(x, y) for s in series.values() for x, y in s if y is not None]
    if not points:
        return {"empty": True, "title": title}
    xmin, xmax = min(x for x, _ in points), max(x for x, _ in points)
    yticks = axis([y for _, y in points], from_zero=from_zero)
    ylo, yhi = yticks[0], yticks[-1]

    def sx(x: float) -> float:
        return pad + (x - xmin) / max(xmax - xmin, 1) * (w - 2 * pad)

    def sy(y: float) -> float:
        return h - pad - (y - ylo) / (yhi - ylo) * (h - 2 * pad)

    lines = []
    for k, (name, values) in enumerate(series.items()):
        pts = [(sx(x), sy(y)) for x, y in values if y is not None]
        lines.append({"name": name, "color": _SERIES_COLORS[k % 3],
                      "points": " ".join(f"{a:.1f},{b:.1f}" for a, b in pts),
                      "dots": [(f"{a:.1f}", f"{b:.1f}") for a, b in pts]})
    return {"empty": False, "title": title, "w": w, "h": h, "pad": pad, "series": lines,
            "yticks": [{"y": f"{sy(t):.1f}", "label": f"{t:g}"} for t in yticks],
            "xticks": [{"x": f"{sx(x):.1f}", "label": x} for x in sorted({x for x, _ in points})]}


def metrics_plot(metrics: Mapping[int, Mapping[str, Any]], source: str) -> dict[str, Any]:
    """Accuracy and AUC of each round's model (``{round: metrics}``, 0 = genesis) on
    ``source``. The genesis model is named in the title, not drawn: an untrained model's
    score would stretch the axis until the rounds' changes look flat."""
    rounds = sorted(r for r in metrics if r > 0)
    series = {k: [(r, metrics[r].get(k)) for r in rounds] for k in ("accuracy", "auc")}
    genesis = metrics.get(0, {}).get("accuracy")
    start = f"; genesis accuracy {genesis:.4f}" if genesis is not None else ""
    return round_plot(f"accuracy and AUC per round on {source}{start}", series)


def contributors(rounds: Iterable[RoundLineage], token: str = ETH, *,
                 replayed: Mapping[int, Iterable[tuple[str, int]]] | None = None,
                 ) -> list[dict[str, Any]]:
    """Per account: updates, samples, rewards claimed, committee fees, slashes (and the
    auditor's replayed rewards when given), amounts exact and as text in ``token``'s unit."""
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
        for who, amount in (replayed or {}).get(r.round, ()):
            rows[who]["replayed"] += amount
    table = []
    for account, v in sorted(rows.items()):
        row: dict[str, Any] = {"account": account, "updates": v["updates"],
                               "samples": v["samples"]}
        for key in ("claimed", "replayed", "fees", "slashed"):
            row[key] = v[key]
            row[key + "_text"] = format_amount(v[key], token, places=6)
        table.append(row)
    return table
