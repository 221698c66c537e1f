"""The chain-only auditor on a real finished task (anvil + LocalStore), honest and forged.

One work directory is built per session (``tests.fixtures_audit``); this module reads it
through one anvil started on a copy of its saved chain. Forgeries are played by a lying
RPC (``LyingContract`` drops or alters what the real contract answers) and by tampering
with a copy of the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.audit import ArtifactCache, audit_model, audit_task
from ledger.cid import Cid
from ledger.lineage import ModelNotFoundError, locate_model, read_lineage
from ledger.lineage_types import ChainCid, ModelLocation
from ledger.local_store import LocalStore
from ledger.market import FedMarket
from tests.fixtures_audit import (
    HONEST_TASK,
    LYING_TASK,
    AuditWorkdir,
    LyingContract,
    audit_workdir,
    opened_chain,
    with_args,
    workdir_copy,
)
from tests.pins import AUDIT_ROUND_MODELS

# The chain run equals `fedledger simulate` of the same manifest and seeds (pinned there too).
ROUND_MODELS = AUDIT_ROUND_MODELS
GENESIS = "bafkreibb5ovkjdvgkmjbjn26bkyxrcgibd7mmce74ckoulzf2zh4tewoeu"
SAMPLES = [3824, 909, 1922]  # regions 1-3, 80% of their rows
CHECKS_PER_TASK = 5 + 2 * (6 + 3 + 1)  # task-level, then per round: 6 checks + 3 updates + model


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> AuditWorkdir:
    return audit_workdir(tmp_path_factory)


@pytest.fixture(scope="module")
def market(workdir: AuditWorkdir, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FedMarket]:
    with opened_chain(workdir, tmp_path_factory.mktemp("audit-chain")) as (_, market, _):
        yield market


@pytest.fixture(scope="module")
def store(workdir: AuditWorkdir) -> LocalStore:
    return LocalStore(workdir.store)


def _failed(report) -> list[tuple[str, int | None]]:
    return [(c.name, c.round) for c in report.failures]


def _lying(market: FedMarket, **edits) -> FedMarket:
    return FedMarket(LyingContract(market.contract, **edits))


# ------------------------------------------------------------------ honest task


def test_honest_task_passes_every_check(market: FedMarket, store: LocalStore,
                                        workdir: AuditWorkdir) -> None:
    report = audit_task(market, store, HONEST_TASK)

    assert report.ok, report.failures
    assert len(report.checks) == CHECKS_PER_TASK
    assert workdir.honest_models == ROUND_MODELS
    lineage = report.lineage
    assert [str(r.record.model) for r in lineage.rounds] == list(ROUND_MODELS)
    assert [str(r.record.parent) for r in lineage.rounds] == [GENESIS, ROUND_MODELS[0]]
    assert str(lineage.genesis) == GENESIS
    for r in lineage.rounds:
        assert [u.num_samples for u in r.updates] == SAMPLES
        assert [u.seq for u in r.updates] == [0, 1, 2]
        # Seats are drawn stake-weighted with replacement: a member may hold several.
        assert all(v.agrees_with(r.record) for v in r.votes)
        assert sum(r.committee.count(v.member) for v in r.votes) == len(r.committee) == 3
        assert r.disagreements == ()
        assert r.record.budget == 5 * 10**17 and r.paid == 5 * 10**17
        assert sum(c.amount for c in r.claims) == 5 * 10**17
        assert r.slashes == ()


def test_report_serializes_to_json(market: FedMarket, store: LocalStore) -> None:
    report = audit_task(market, store, HONEST_TASK)

    data = json.loads(json.dumps(report.to_dict()))

    assert data["ok"] is True and data["failures"] == []
    assert data["lineage"]["rounds"][1]["view"]["model"] == ROUND_MODELS[1]
    assert data["lineage"]["rounds"][0]["updates"][1]["num_samples"] == 909
    assert data["manifest"]["rounds"] == 2


def test_audit_by_model_cid_walks_back_from_that_round(market: FedMarket, store: LocalStore) -> None:
    report = audit_model(market, store, Cid.parse(ROUND_MODELS[0]))

    assert report.ok, report.failures
    assert report.upto_round == 1
    assert report.locations == (ModelLocation(HONEST_TASK, 1),)
    assert {c.round for c in report.checks} == {None, 0, 1}


def test_genesis_is_located_in_every_task_that_starts_from_it(market: FedMarket) -> None:
    # Both tasks post the same manifest, so they share the genesis model.
    found = locate_model(market, Cid.parse(GENESIS))

    assert found == [ModelLocation(HONEST_TASK, 0), ModelLocation(LYING_TASK, 0)]


def test_unknown_model_is_a_typed_error(market: FedMarket, store: LocalStore) -> None:
    stranger = Cid.parse("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")

    with pytest.raises(ModelNotFoundError, match=str(stranger)):
        audit_model(market, store, stranger)


def test_a_quorum_that_lied_passes_the_chain_only_audit(market: FedMarket, store: LocalStore,
                                                        workdir: AuditWorkdir) -> None:
    # Only a replay (tests/node/test_replay.py) catches a wrong aggregate agreed by a quorum.
    report = audit_task(market, store, LYING_TASK)

    assert report.ok, report.failures
    r1 = report.lineage.round(1)
    dissent = [v for v in r1.votes if not v.agrees_with(r1.record)]
    assert len(dissent) == 1 and str(dissent[0].model) == ROUND_MODELS[0]
    assert [s.amount for s in r1.slashes] == [5 * 10**15]  # half the 0.01 ETH stake
    # Slashed stake goes to the requester's sweep, never into a later round's budget.
    assert report.lineage.round(2).record.budget == 5 * 10**17


# ------------------------------------------------------------------ lying RPC


def test_an_omitted_update_event_breaks_the_commitment(market: FedMarket, store: LocalStore) -> None:
    def drop(name, events):
        if name != "UpdateSubmitted":
            return events
        return [e for e in events if not (e["args"]["round"] == 2 and e["args"]["seq"] == 1)]

    report = audit_task(_lying(market, edit_events=drop), store, HONEST_TASK)

    # The committee attested holding three updates where the lying RPC shows two: that breaks
    # availability too (an attested seq past the last event).
    assert _failed(report) == [("round.update-commitment", 2), ("round.availability", 2)]
    check, availability = report.failures
    assert "attested an update past the 2 submitted" in availability.detail
    assert check.where == "task 1 round 2"
    assert "update #1 by" in check.detail and "has seq 2" in check.detail
    assert "2 UpdateSubmitted events, on chain 3 submissions" in check.detail


def test_an_altered_sample_count_breaks_the_commitment(market: FedMarket, store: LocalStore) -> None:
    def inflate(name, events):
        if name != "UpdateSubmitted":
            return events
        return [with_args(e, numSamples=10**6) if e["args"]["round"] == 1 and e["args"]["seq"] == 0
                else e for e in events]

    report = audit_task(_lying(market, edit_events=inflate), store, HONEST_TASK)

    assert _failed(report) == [("round.update-commitment", 1)]
    assert "update #0 by" in report.failures[0].detail


def test_a_forged_model_in_one_event_is_caught_in_two_rounds(market: FedMarket,
                                                           store: LocalStore) -> None:
    # Events name no parent: a round's parent is the previous event's model. Forging round
    # 1's model in its event alone makes views and events disagree on round 1's model and
    # on round 2's parent, and the events' round 2 no longer descends from round 1's record.
    other = Cid.parse(GENESIS)

    def forge(name, events):
        if name != "ModelFinalized":
            return events
        return [with_args(e, modelDigest=other.digest) if e["args"]["round"] == 1 else e
                for e in events]

    report = audit_task(_lying(market, edit_events=forge), store, HONEST_TASK)

    assert _failed(report) == [("round.views-vs-events", 1), ("round.views-vs-events", 2),
                               ("round.parent-link", 2)]
    assert "model: view" in report.failures[0].detail
    assert "parent: view" in report.failures[1].detail
    assert f"event says parent {GENESIS}" in report.failures[2].detail


def test_a_consistently_forged_model_breaks_the_next_link(market: FedMarket, store: LocalStore,
                                                          workdir: AuditWorkdir) -> None:
    # Views and events both claim round 1 produced the lying task's model: they agree with
    # each other, but round 2 was trained on another parent, so the chain does not connect.
    forged = ChainCid.of(Cid.parse(workdir.lying_models[0]))

    def forge_events(name, events):
        if name != "ModelFinalized":
            return events
        return [with_args(e, modelDigest=forged.digest) if e["args"]["round"] == 1 else e
                for e in events]

    def forge_view(fn, args, result):
        if fn == "finalizedRound" and args == (HONEST_TASK, 1):
            return (*result[:2], forged.digest, *result[3:])
        return result

    lying = _lying(market, edit_events=forge_events, edit_call=forge_view)
    report = audit_task(lying, store, HONEST_TASK)

    # The view of round 2 still names the true parent; the events chain through the forgery.
    assert _failed(report) == [("round.quorum", 1), ("round.views-vs-events", 2),
                               ("round.parent-link", 2)]
    assert "0 seats revealed the finalized result" in report.failures[0].detail
    assert f"round 1's model {forged}" in report.failures[2].detail


def test_forged_reveals_fall_below_quorum(market: FedMarket, store: LocalStore) -> None:
    def forge(name, events):
        if name != "Revealed":
            return events
        # every reveal of round 2 now shows another rewards root
        return [with_args(e, rewardsRoot=bytes(32)) if e["args"]["round"] == 2 else e
                for e in events]

    report = audit_task(_lying(market, edit_events=forge), store, HONEST_TASK)

    assert _failed(report) == [("round.quorum", 2)]
    assert report.failures[0].detail == ("0 seats revealed the finalized result in attempt 0, "
                                         "quorum 2")


def test_a_hidden_claim_disagrees_with_round_paid(market: FedMarket, store: LocalStore) -> None:
    def hide(name, events):
        return events[1:] if name == "RewardClaimed" else events

    report = audit_task(_lying(market, edit_events=hide), store, HONEST_TASK)

    assert _failed(report) == [("round.claims", 1)]
    assert "roundPaid says 500000000000000000" in report.failures[0].detail


def test_a_missing_model_finalized_event_is_a_disagreement(market: FedMarket) -> None:
    def drop(name, events):
        return [e for e in events if e["args"]["round"] != 2] if name == "ModelFinalized" else events

    lineage = read_lineage(_lying(market, edit_events=drop), HONEST_TASK)

    assert lineage.round(2).event is None
    assert lineage.round(2).disagreements == (
        "finalization: the view says the round is final, no ModelFinalized event",)


# ------------------------------------------------------------------ tampered store


def _tampered(workdir: AuditWorkdir, tmp_path: Path) -> LocalStore:
    return LocalStore(workdir_copy(workdir, tmp_path / "copy").store)


def test_a_flipped_byte_in_an_update_names_it(market: FedMarket, workdir: AuditWorkdir,
                                              tmp_path: Path) -> None:
    store = _tampered(workdir, tmp_path)
    update = read_lineage(market, HONEST_TASK).round(2).updates[1]
    block = store.block_path(update.cid)
    data = bytearray(block.read_bytes())
    data[100] ^= 0x01
    block.write_bytes(bytes(data))

    report = audit_task(market, store, HONEST_TASK)

    assert _failed(report) == [("artifact.update", 2)]
    [check] = report.failures
    assert check.where == f"task 1 round 2 update #1 by {update.participant}"
    assert check.detail.startswith(f"{update.cid}: CidMismatchError")


def test_a_missing_model_block_names_it(market: FedMarket, workdir: AuditWorkdir,
                                        tmp_path: Path) -> None:
    store = _tampered(workdir, tmp_path)
    store.block_path(Cid.parse(ROUND_MODELS[0])).unlink()

    report = audit_model(market, ArtifactCache(store), Cid.parse(ROUND_MODELS[1]))

    assert _failed(report) == [("artifact.model", 1)]
    assert report.failures[0].where == "task 1 round 1 model"
    assert report.failures[0].detail.startswith(f"{ROUND_MODELS[0]}: BlockNotFoundError")
