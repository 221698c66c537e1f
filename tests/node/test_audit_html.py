"""``fedledger audit --html``: the page comes from an autoescaped template."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from ledger.audit import audit_task
from ledger.audit_report import AuditReport, Check
from ledger.local_store import LocalStore
from ledger.units import format_amount
from node.audit.html import render_html
from node.audit.views import axis, round_plot
from tests.fixtures_audit import HONEST_TASK, AuditWorkdir, audit_workdir, opened_chain

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditReport]:
    workdir: AuditWorkdir = audit_workdir(tmp_path_factory)
    with opened_chain(workdir, tmp_path_factory.mktemp("html-chain")) as (_, market, _):
        yield audit_task(market, LocalStore(workdir.store), HONEST_TASK)


def test_the_page_is_self_contained(report: AuditReport) -> None:
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert page.count("<svg") == 2 and page.count("</svg>") == 2
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert f"✔ all {len(report.checks)} checks passed" in page
    assert page.count("<tr>") == 1 + 3 + 1 + len(report.checks)  # 3 contributors


def test_text_from_the_chain_cannot_become_markup(report: AuditReport) -> None:
    forged = replace(report, target=HOSTILE,
                     checks=[*report.checks, Check(HOSTILE, False, HOSTILE, HOSTILE)])
    page = render_html(forged)
    assert "<script>" not in page
    # title and heading, the failure list, the checks table (where, name, detail each)
    assert page.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") == 2 + 3 + 3
    assert "✗ 1 of" in page


def test_amounts_read_in_eth_with_the_exact_wei_beside(report: AuditReport) -> None:
    page = render_html(report)
    claimed: dict[str, int] = {}
    for r in report.lineage.rounds:
        for c in r.claims:
            claimed[c.account] = claimed.get(c.account, 0) + c.amount
    assert len(claimed) == 3 and all(v > 0 for v in claimed.values())
    for amount in claimed.values():
        assert f'<td title="{amount} wei">{format_amount(amount, places=6)}</td>' in page
    assert "(wei)" not in page


@pytest.mark.parametrize(("values", "from_zero", "ticks"), [
    ([0.879, 0.896], False, [0.875, 0.88, 0.885, 0.89, 0.895, 0.9]),
    ([3, 9], True, [0, 5, 10]),
    ([0.5, 0.5], False, [0, 0.5, 1.0]),
    ([2, 2], True, [0, 0.5, 1.0, 1.5, 2.0]),
])
def test_the_axis_spans_the_data(values, from_zero, ticks) -> None:
    assert axis(values, from_zero=from_zero) == ticks


def test_a_narrow_metric_run_fills_the_plot() -> None:
    plot = round_plot("m", {"accuracy": [(0, 0.879), (1, 0.896)]})
    ys = [float(y) for _, y in plot["series"][0]["dots"]]
    # The drawing area is 260 - 2 * 48 high: the run spans 68% of it (1.7% on a 0-1 axis).
    assert ys[0] - ys[1] > 0.6 * (260 - 2 * 48)
