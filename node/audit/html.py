"""``fedledger audit --html FILE``: one self-contained page (inline SVG and CSS, no assets).

Three parts: the lineage graph (genesis -> each round's model, the updates feeding each
round, red where a check failed), a per-round plot (the evaluation metrics when the audit
evaluated the models, else submissions and excluded updates per round), and tables of the
contributors' rewards and of every check.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from pathlib import Path

from ledger.audit_report import AuditReport
from ledger.lineage_types import RoundLineage

__all__ = ["render_html", "write_html"]

_GREEN, _RED, _GREY, _BLUE = "#2e7d32", "#c62828", "#607d8b", "#1565c0"
_CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;
font-size:13px;text-align:left}th{background:#f3f3f3}.ok{color:#2e7d32}.fail{color:#c62828;
font-weight:bold}code{font-size:12px}svg{border:1px solid #ddd;background:#fff}"""


def _short(text: str, n: int = 10) -> str:
    return text if len(text) <= 2 * n else f"{text[:n]}…{text[-4:]}"


def _failed(report: AuditReport, round_: int) -> bool:
    return any(not c.ok for c in report.checks_of(round_))


def _graph(report: AuditReport, rounds: list[RoundLineage]) -> str:
    """Model boxes left to right; each round's updates as dots above its box."""
    box_w, box_h, gap, top = 150, 44, 60, 90
    width = 20 + (len(rounds) + 1) * (box_w + gap)
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
              f'height="{top + box_h + 40}" role="img" aria-label="lineage graph">'),
             ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
              'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
              '</marker></defs>')]

    def box(x: int, label: str, cid: str, color: str) -> None:
        parts.append(f'<rect x="{x}" y="{top}" width="{box_w}" height="{box_h}" rx="6" '
                     f'fill="{color}" fill-opacity="0.12" stroke="{color}" stroke-width="2"/>'
                     f'<text x="{x + 8}" y="{top + 18}" font-size="13" font-weight="bold">'
                     f'{escape(label)}</text><text x="{x + 8}" y="{top + 35}" font-size="10" '
                     f'font-family="monospace"><title>{escape(cid)}</title>{escape(_short(cid))}'
                     '</text>')

    genesis_ok = all(c.ok for c in report.checks_of(0))
    box(20, "genesis", str(report.lineage.genesis), _GREEN if genesis_ok else _RED)
    for i, r in enumerate(rounds, start=1):
        x = 20 + i * (box_w + gap)
        parts.append(f'<line x1="{x - gap}" y1="{top + box_h / 2}" x2="{x}" '
                     f'y2="{top + box_h / 2}" stroke="#555" stroke-width="2" '
                     'marker-end="url(#arrow)"/>')
        box(x, f"round {r.round}", str(r.record.model), _RED if _failed(report, r.round) else _GREEN)
        n = max(len(r.updates), 1)
        for j, u in enumerate(r.updates):
            ux = x + (j + 0.5) * box_w / n
            parts.append(f'<line x1="{ux:.1f}" y1="34" x2="{x + box_w / 2}" y2="{top}" '
                         'stroke="#999" stroke-width="1"/>'
                         f'<circle cx="{ux:.1f}" cy="28" r="7" fill="{_BLUE}">'
                         f'<title>{escape(u.participant)}: {escape(str(u.cid))} '
                         f'({u.num_samples} samples)</title></circle>')
        parts.append(f'<text x="{x}" y="14" font-size="11" fill="{_GREY}">'
                     f'{len(r.updates)} updates</text>')
    parts.append("</svg>")
    return "".join(parts)


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


def _plot(report: AuditReport, rounds: list[RoundLineage]) -> str:
    title, series = _series(report, rounds)
    w, h, pad = 520, 240, 40
    points = [(x, y) for s in series.values() for x, y in s if y is not None]
    if not points:
        return f"<p>{escape(title)}: nothing to plot</p>"
    xmin, xmax = min(x for x, _ in points), max(x for x, _ in points)
    ymax = max(1.0, *(y for _, y in points))  # metrics live in [0, 1]; counts go higher

    def sx(x: float) -> float:
        return pad + (x - xmin) / max(xmax - xmin, 1) * (w - 2 * pad)

    def sy(y: float) -> float:
        return h - pad - y / ymax * (h - 2 * pad)

    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
              f'aria-label="{escape(title)}"><text x="{pad}" y="18" font-size="13">'
              f'{escape(title)}</text><line x1="{pad}" y1="{h - pad}" x2="{w - pad}" '
              f'y2="{h - pad}" stroke="#555"/><line x1="{pad}" y1="{pad}" x2="{pad}" '
              f'y2="{h - pad}" stroke="#555"/><text x="4" y="{sy(ymax) + 4}" font-size="10">'
              f'{ymax:g}</text><text x="4" y="{h - pad + 4}" font-size="10">0</text>')]
    for x in sorted({x for x, _ in points}):
        parts.append(f'<text x="{sx(x) - 3}" y="{h - pad + 14}" font-size="10">{x}</text>')
    for k, (name, values) in enumerate(series.items()):
        color = (_BLUE, _RED, _GREEN)[k % 3]
        pts = [(sx(x), sy(y)) for x, y in values if y is not None]
        if pts:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                         + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
            parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{color}"/>' for a, b in pts]
        parts.append(f'<text x="{w - pad - 90}" y="{pad + 14 * k}" font-size="11" '
                     f'fill="{color}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _contributors(report: AuditReport, rounds: list[RoundLineage]) -> str:
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
    head = "".join(f"<th>{h}</th>" for h in ("participant", "updates", "samples", "claimed (wei)",
                                             "replayed rewards (wei)", "fees (wei)",
                                             "slashed (wei)"))
    body = "".join(
        f"<tr><td><code>{escape(who)}</code></td>" + "".join(
            f"<td>{v[k]}</td>" for k in ("updates", "samples", "claimed", "replayed", "fees",
                                         "slashed")) + "</tr>"
        for who, v in sorted(rows.items()))
    return f"<table><tr>{head}</tr>{body}</table>"


def _checks(report: AuditReport) -> str:
    rows = "".join(
        f'<tr><td class="{"ok" if c.ok else "fail"}">{"✔" if c.ok else "✗"}</td>'
        f"<td>{escape(c.where)}</td><td>{escape(c.name)}</td><td>{escape(c.detail)}</td></tr>"
        for c in report.checks)
    return f"<table><tr><th></th><th>where</th><th>check</th><th>detail</th></tr>{rows}</table>"


def render_html(report: AuditReport) -> str:
    """The report as one HTML document with inline SVG (no external assets)."""
    rounds = [r for r in report.lineage.rounds if r.round <= report.upto_round]
    verdict = (f'<p class="ok">✔ all {len(report.checks)} checks passed</p>' if report.ok else
               f'<p class="fail">✗ {len(report.failures)} of {len(report.checks)} checks '
               "failed</p><ul>" + "".join(
                   f'<li class="fail">{escape(c.where)}: {escape(c.name)}: {escape(c.detail)}</li>'
                   for c in report.failures) + "</ul>")
    title = f"fedledger audit of {report.target}"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
            f"</title><style>{_CSS}</style></head><body><h1>{escape(title)}</h1>"
            f"<p>task {report.lineage.task}, rounds 1..{report.upto_round}</p>{verdict}"
            f"<h2>Lineage</h2>{_graph(report, rounds)}<h2>Per round</h2>{_plot(report, rounds)}"
            f"<h2>Contributors and rewards</h2>{_contributors(report, rounds)}"
            f"<h2>Checks</h2>{_checks(report)}</body></html>\n")


def write_html(report: AuditReport, path: str | Path) -> Path:
    """Write ``render_html(report)`` to ``path``."""
    path = Path(path)
    path.write_text(render_html(report), encoding="utf-8")
    return path
