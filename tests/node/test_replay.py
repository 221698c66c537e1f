"""``node.audit.replay`` on a real finished task: honest rounds replay bit for bit, a lying
quorum (its members aggregated with the last update left out) is caught, a missing parent
is named, and evaluation on a CSV scores every model of the lineage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.audit import ArtifactCache, audit_task
from ledger.cid import Cid
from ledger.local_store import LocalStore
from ledger.market import FedMarket
from node.audit.replay import replay_report
from node.data.datasets import load_shoppers_table, write_csv_table
from tests.fixtures_audit import (
    HONEST_TASK,
    LYING_TASK,
    AuditWorkdir,
    audit_workdir,
    opened_chain,
    workdir_copy,
)
from tests.pins import AUDIT_ROUND_MODELS

ROUND_MODELS = AUDIT_ROUND_MODELS
# Rewards rule "samples": each round's 0.5 ETH split by sample counts 3824 : 909 : 1922.
HONEST_REWARDS = [287302779864763336, 68294515401953418, 144402704733283246]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> AuditWorkdir:
    return audit_workdir(tmp_path_factory)


@pytest.fixture(scope="module")
def market(workdir: AuditWorkdir, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FedMarket]:
    with opened_chain(workdir, tmp_path_factory.mktemp("replay-chain")) as (_, market, _):
        yield market


def _replay_checks(report) -> list[tuple[str, int, bool]]:
    return [(c.name, c.round, c.ok) for c in report.checks if c.name.startswith("replay.")]


def test_honest_rounds_replay_bit_for_bit(market: FedMarket, workdir: AuditWorkdir) -> None:
    store = ArtifactCache(LocalStore(workdir.store))
    report = audit_task(market, store, HONEST_TASK)

    replay_report(report, store)

    assert report.ok, report.failures
    assert _replay_checks(report) == [("replay.model", 1, True), ("replay.rewards-root", 1, True),
                                      ("replay.model", 2, True), ("replay.rewards-root", 2, True)]
    for round_, model in enumerate(ROUND_MODELS, start=1):
        info = report.round_info[round_]
        assert info["replayed_model"] == model
        assert [amount for _, amount in info["rewards"]] == HONEST_REWARDS
        assert info["excluded"] == []


def test_a_quorum_on_a_wrong_model_fails_the_replay(market: FedMarket,
                                                    workdir: AuditWorkdir) -> None:
    store = ArtifactCache(LocalStore(workdir.store))
    report = audit_task(market, store, LYING_TASK)
    assert report.ok  # every on-chain check passes: the quorum agreed

    replay_report(report, store)

    assert _replay_checks(report) == [
        ("replay.model", 1, False), ("replay.rewards-root", 1, False),
        ("replay.model", 2, False), ("replay.rewards-root", 2, False)]
    first = report.failures[0]
    assert first.where == "task 2 round 1"
    # Round 1 of both tasks has the same parent and the same three updates: the honest
    # aggregate is the honest task's round-1 model.
    assert first.detail == f"recomputed {ROUND_MODELS[0]}, on chain {workdir.lying_models[0]}"
    assert [a for _, a in report.round_info[1]["rewards"]] == HONEST_REWARDS


def test_a_missing_parent_is_named_and_later_rounds_still_judged(
        market: FedMarket, workdir: AuditWorkdir, tmp_path: Path) -> None:
    copy = workdir_copy(workdir, tmp_path / "copy")
    inner = LocalStore(copy.store)
    inner.block_path(Cid.parse(ROUND_MODELS[0])).unlink()
    store = ArtifactCache(inner)
    report = audit_task(market, store, HONEST_TASK)

    replay_report(report, store)

    assert [(c.name, c.round) for c in report.failures] == [("artifact.model", 1),
                                                            ("replay.model", 2)]
    assert report.failures[1].detail.startswith(
        f"cannot replay from parent {ROUND_MODELS[0]}: BlockNotFoundError")
    assert ("replay.model", 1, True) in _replay_checks(report)


def test_eval_data_scores_every_model(market: FedMarket, workdir: AuditWorkdir,
                                      tmp_path: Path) -> None:
    table = load_shoppers_table()
    csv = tmp_path / "eval.csv"
    write_csv_table(csv, table.take(range(0, len(table), 41)))  # 301 rows across the year
    store = ArtifactCache(LocalStore(workdir.store))
    report = audit_task(market, store, HONEST_TASK)

    replay_report(report, store, eval_data=csv)

    metrics = {r: report.round_info[r]["metrics"] for r in (0, 1, 2)}
    assert {m["n"] for m in metrics.values()} == {301}
    # Correct predictions out of 301: the untrained genesis, then two rounds of FedAvg.
    assert [round(metrics[r]["accuracy"] * 301, 9) for r in (0, 1, 2)] == [81, 265, 264]
