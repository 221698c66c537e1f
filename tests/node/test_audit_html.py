"""``fedledger audit --html``: the page comes from an autoescaped template."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from ledger.audit import audit_task
from ledger.audit_report import AuditReport, Check
from ledger.local_store import LocalStore
from node.audit.html import render_html
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
