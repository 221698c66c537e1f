"""The auditor checks client sampling: each round's updates came from the cohort drawn on chain.

The contract already refuses an update from outside the cohort; these tests play an RPC that
lies about the draw (the seed in the event, or in both event and view) and expect the audit
to say so, naming the round."""

from __future__ import annotations

from ledger.audit import audit_task
from ledger.local_store import LocalStore
from ledger.market import FedMarket
from tests.contracts.market_scenario import goto, play_round
from tests.contracts.test_market_cohort import drawn, sampled_env
from tests.fixtures_audit import LyingContract, with_args

FORGED = bytes.fromhex("aa" * 32)


def _cohort_checks(report):
    return [(c.ok, c.round, c.detail) for c in report.checks if c.name == "round.cohort"]


def _played(chain):
    env = sampled_env(chain)
    goto(env.chain, env.market.round_state(env.task).attempt_start)
    _, inside, _ = drawn(env)
    play_round(env, submitters=inside)
    return env


def test_an_honest_draw_passes(anvil_chain, tmp_path):
    env = _played(anvil_chain)
    [(passed, round_, detail)] = _cohort_checks(audit_task(env.market, LocalStore(tmp_path), env.task))
    assert (passed, round_) == (True, 1)
    assert detail.startswith("3 updates, all from the 3 members drawn")


def test_a_forged_seed_in_the_event_disagrees_with_the_view(anvil_chain, tmp_path):
    env = _played(anvil_chain)

    def forge(name, events):
        return [with_args(e, seed=FORGED) for e in events] if name == "CohortDrawn" else events

    lying = FedMarket(LyingContract(env.market.contract, edit_events=forge))
    [(passed, round_, detail)] = _cohort_checks(audit_task(lying, LocalStore(tmp_path), env.task))
    assert (passed, round_) == (False, 1)
    assert "cohortSeed view" in detail and "!= event seed 0x" + "aa" * 32 in detail
    assert "updates from outside the drawn cohort" in detail


def test_a_consistent_lie_about_the_seed_still_shows_outsiders(anvil_chain, tmp_path):
    env = _played(anvil_chain)

    def forge_events(name, events):
        return [with_args(e, seed=FORGED) for e in events] if name == "CohortDrawn" else events

    def forge_call(fn, args, result):
        return FORGED if fn == "cohortSeed" else result

    lying = FedMarket(LyingContract(env.market.contract, edit_events=forge_events,
                                    edit_call=forge_call))
    [(passed, _, detail)] = _cohort_checks(audit_task(lying, LocalStore(tmp_path), env.task))
    assert not passed and "cohortSeed view" not in detail
    assert "updates from outside the drawn cohort" in detail


def test_a_hidden_draw_fails(anvil_chain, tmp_path):
    env = _played(anvil_chain)
    lying = FedMarket(LyingContract(
        env.market.contract, edit_events=lambda name, ev: [] if name == "CohortDrawn" else ev))
    [(passed, _, detail)] = _cohort_checks(audit_task(lying, LocalStore(tmp_path), env.task))
    assert not passed and detail == "no CohortDrawn event, yet the task samples a cohort"
