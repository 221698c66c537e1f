"""The explorer's server over a finished deployment (real anvil, real HTTP): JSON API, pages,
the event stream and a chain that goes away. The browser test is ``tests/e2e``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from ledger.lineage import read_lineage
from ledger.local_store import LocalStore
from ledger.units import format_amount
from node.explorer.server import Explorer
from tests.fixtures_audit import (
    HONEST_TASK,
    LYING_TASK,
    PARTICIPANTS,
    ROUNDS,
    AuditWorkdir,
    audit_workdir,
    opened_chain,
)

TIMEOUT = 20


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> AuditWorkdir:
    return audit_workdir(tmp_path_factory)


@pytest.fixture
def served(workdir: AuditWorkdir, tmp_path: Path) -> Iterator[tuple[Explorer, object, object]]:
    with opened_chain(workdir, tmp_path / "chain") as (chain, market, _), \
            Explorer(market, LocalStore(workdir.store), interval=0.1) as explorer:
        yield explorer, chain, market


def _get(explorer: Explorer, path: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(explorer.url.rstrip("/") + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_api_lists_both_finished_tasks(served) -> None:
    explorer, _, _ = served
    status, body = _get(explorer, "/api/tasks")
    rows = json.loads(body)["tasks"]
    assert status == 200 and [r["task"] for r in rows] == [HONEST_TASK, LYING_TASK]
    assert {(r["phase"], r["rounds_done"], r["members"], r["bounty_text"]) for r in rows} == \
        {("FINISHED", ROUNDS, PARTICIPANTS, "1 ETH")}


def test_api_task_is_the_lineage(served) -> None:
    explorer, _, market = served
    lineage = read_lineage(market, HONEST_TASK)
    task = json.loads(_get(explorer, f"/api/task/{HONEST_TASK}")[1])
    assert [r["model"] for r in task["rounds_detail"]] == \
        [str(r.record.model) for r in lineage.rounds]
    first = task["rounds_detail"][0]
    assert first["parent"] == task["genesis"] == str(lineage.genesis)
    assert [c["amount"] for c in first["claims"]] == [c.amount for c in lineage.rounds[0].claims]
    assert first["audit_checks"] > 0 and first["audit_failures"] == []
    assert first["metrics"] is None  # no --eval-data given


def test_task_page_links_every_model_and_shows_eth(served) -> None:
    explorer, _, market = served
    lineage = read_lineage(market, HONEST_TASK)
    status, page = _get(explorer, f"/task/{HONEST_TASK}")
    assert status == 200 and page.startswith("<!DOCTYPE html>")
    assert f'data-rounds-done="{ROUNDS}"' in page
    claimed: dict[str, int] = {}
    for r in lineage.rounds:
        assert f'href="/task/{HONEST_TASK}/model/{r.record.model}"' in page
        for claim in r.claims:
            claimed[claim.account] = claimed.get(claim.account, 0) + claim.amount
    assert len(claimed) == PARTICIPANTS
    for total in claimed.values():  # the contributors' table, shared with audit --html
        assert f'title="{total} wei">{format_amount(total, places=6)}<' in page
    assert "no evaluation data given (--eval-data)" in page
    outside = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in outside and "https://" not in outside  # nothing from a CDN


def test_a_fragment_is_the_main_part_only(served) -> None:
    explorer, _, _ = served
    status, fragment = _get(explorer, f"/task/{HONEST_TASK}", **{"X-Fragment": "1"})
    assert status == 200 and "<html" not in fragment and 'id="round-counter"' in fragment


def test_model_page_shows_votes_rewards_and_audit(served) -> None:
    explorer, _, market = served
    last = read_lineage(market, HONEST_TASK).rounds[-1]
    status, page = _get(explorer, f"/task/{HONEST_TASK}/model/{last.record.model}")
    assert status == 200 and f"Round {last.round} model" in page
    assert page.count("<tr><td><code>0x") >= len(last.updates) + len(last.votes)
    assert 'id="audit-status" class="ok"' in page and 'id="parent-link"' in page


def test_unknown_tasks_and_models_are_404_with_a_reason(served) -> None:
    explorer, _, _ = served
    expected = ('<!DOCTYPE html><title>not found</title><p>no task 99 on this deployment '
                f'(block {_block(explorer)})</p><p><a href="/">all tasks</a></p>')
    assert _get(explorer, "/task/99") == (404, expected)
    status, body = _get(explorer, f"/task/{HONEST_TASK}/model/bafkreinotamodel")
    assert status == 404 and f"bafkreinotamodel is not a model of task {HONEST_TASK}" in body
    status, body = _get(explorer, "/api/task/99")
    assert status == 404 and json.loads(body)["error"].startswith("no task 99")


def _block(explorer: Explorer) -> int:
    return json.loads(_get(explorer, "/api/tasks")[1])["block"]


def _events(reply) -> Iterator[dict]:
    event = None
    for raw in reply:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: ") and event == "change":
            yield json.loads(line[len("data: "):])


def test_the_stream_says_when_a_block_lands(served) -> None:
    explorer, chain, _ = served
    request = urllib.request.Request(explorer.url + "events")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as reply:
        assert reply.headers["Content-Type"].startswith("text/event-stream")
        changes = _events(reply)
        first = next(changes)
        chain.w3.provider.make_request("evm_mine", [])
        second = next(changes)
    assert second["version"] == first["version"] + 1
    assert second["block"] == first["block"] + 1 and second["error"] is None


def test_a_chain_that_goes_away_keeps_the_last_page_and_says_why(workdir, tmp_path) -> None:
    with opened_chain(workdir, tmp_path / "chain") as (_, market, _), \
            Explorer(market, LocalStore(workdir.store), interval=0.1) as explorer:
        before = explorer.watcher.snapshot
        assert before.error is None and set(before.tasks) == {HONEST_TASK, LYING_TASK}
    # Both the explorer and the chain have stopped: drive the watcher by hand.
    explorer.watcher.poll()
    after = explorer.watcher.snapshot
    assert after.error is not None and after.error.startswith("cannot read the chain")
    assert after.tasks is before.tasks and after.version == before.version + 1
    assert explorer.watcher.poll() is False  # the same error is not a change


def test_text_from_outside_cannot_become_markup(served) -> None:
    explorer, _, _ = served
    hostile = '<script>alert("x")</script>'
    watcher = explorer.watcher
    watcher.stop()  # hold this snapshot still
    watcher.snapshot = replace(watcher.snapshot, error=hostile)
    for path in ("/", f"/task/{HONEST_TASK}"):
        status, page = _get(explorer, path)
        assert status == 200 and "<script>alert" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    status, page = _get(explorer, f"/task/{HONEST_TASK}/model/{hostile}")
    assert status == 404 and "<script>alert" not in page
