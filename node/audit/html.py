"""``fedledger audit --html FILE``: one self-contained page (inline SVG and CSS, no assets).

Three parts: the lineage graph (genesis -> each round's model, the updates feeding each
round, red where a check failed), a per-round plot (the evaluation metrics when the audit
evaluated the models, else submissions and excluded updates per round), and tables of the
contributors' rewards and of every check.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from ledger.audit_report import AuditReport
from ledger.lineage_types import RoundLineage
from node.audit.views import COLORS, contributors, lineage_graph, metrics_plot, round_plot

__all__ = ["render_html", "template_environment", "write_html"]

_TEMPLATE = "lineage.html.j2"


@cache
def template_environment() -> jinja2.Environment:
    """The Jinja environment of the lineage pages (``node.audit`` templates; the explorer adds
    its own folder in front of these and includes the same partials)."""
    # Autoescaping: participant names, CIDs and check details come from the chain and the
    # store, i.e. from anyone; none of them may become markup.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("node.audit", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _metrics_plot(report: AuditReport, rounds: list[RoundLineage]) -> dict[str, Any]:
    info = report.round_info
    metrics = {x: info[x]["metrics"] for x in [0, *(r.round for r in rounds)]
               if "metrics" in info.get(x, {})}
    if metrics:
        return metrics_plot(metrics, info.get(0, {}).get("eval_source", "the evaluation rows"))
    series = {"submissions": [(r.round, len(r.updates)) for r in rounds],
              "excluded": [(r.round, len(info.get(r.round, {}).get("excluded", [])))
                           for r in rounds]}
    return round_plot("submissions and excluded updates per round", series, from_zero=True)


def render_html(report: AuditReport) -> str:
    """The report as one HTML document with inline SVG (no external assets)."""
    rounds = [r for r in report.lineage.rounds if r.round <= report.upto_round]
    failed = [r for r in [0, *(x.round for x in rounds)]
              if any(not c.ok for c in report.checks_of(r))]
    replayed = {r: info.get("rewards", []) for r, info in report.round_info.items()}
    return template_environment().get_template(_TEMPLATE).render(
        title=f"fedledger audit of {report.target}", task=report.lineage.task,
        upto_round=report.upto_round, ok=report.ok, checks=report.checks,
        failures=report.failures,
        graph=lineage_graph(str(report.lineage.genesis), rounds, failed=failed),
        plot=_metrics_plot(report, rounds),
        contributors=contributors(rounds, report.lineage.params.token, replayed=replayed),
        show_replayed=bool(replayed), colors=COLORS)


def write_html(report: AuditReport, path: str | Path) -> Path:
    """Write ``render_html(report)`` to ``path``."""
    path = Path(path)
    path.write_text(render_html(report), encoding="utf-8")
    return path
