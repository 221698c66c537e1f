"""Client sampling on chain: each round only the K members drawn from the round's late seed
may submit, the draw agrees with ``ledger.cohort`` bit for bit, and nobody can choose, re-roll or
dodge it."""

from __future__ import annotations

import pytest

from ledger.cohort import cohort_members, position
from ledger.market_types import Phase
from tests.contracts.market_scenario import (
    cid_of,
    default_params,
    goto,
    make_env,
    play_round,
    reverts,
)

K = 3


def sampled_env(chain, n_members=9, **overrides):
    params = default_params(cohort_size=K, max_participants=12, **overrides)
    return make_env(chain, n_members, params)


def drawn(env):
    """Draw the current round's cohort; return (seed, drawn accounts, the others)."""
    m, task = env.market, env.task
    receipt = m.draw_cohort(task, sender=env.requester)
    event = m.events_in(receipt, "CohortDrawn")[0]["args"]
    seed = m.cohort_seed(task, m.current_round(task))
    assert bytes(event["seed"]) == seed != bytes(32)
    assert (event["members"], event["size"]) == (len(env.members), K)
    chosen = set(cohort_members(seed, [a.address for a in env.members], K))
    inside = [a for a in env.members if a.address in chosen]
    outside = [a for a in env.members if a.address not in chosen]
    return seed, inside, outside


@pytest.mark.parametrize("n_members", [6, 9])  # 3 bits (unbalanced halves), 4 bits
def test_the_contract_draws_what_ledger_cohort_lists(chain, n_members):
    env = sampled_env(chain, n_members)
    goto(env.chain, env.market.round_state(env.task).attempt_start)
    seed, inside, outside = drawn(env)
    assert len(inside) == K and len(outside) == len(env.members) - K
    assert env.market.round_state(env.task).cohort_seed == seed
    assert [env.market.in_cohort(env.task, a.address) for a in env.members] == [
        a in inside for a in env.members]
    n = len(env.members)
    assert sorted(position(seed, i, n) for i, a in enumerate(env.members) if a in inside) == [0, 1, 2]


def test_only_the_cohort_submits_and_a_full_round_finalizes(anvil_chain):
    env = sampled_env(anvil_chain)
    m, task = env.market, env.task
    goto(env.chain, m.round_state(task).attempt_start)
    _, inside, outside = drawn(env)
    with reverts("FedMarketNotInCohort", round=1, account=outside[0].address):
        m.submit_update(task, 1, cid_of("sneaky"), 100, sender=outside[0])
    result = play_round(env, submitters=inside)
    assert [u.participant for u in m.updates(task, 1)] == [a.address for a in inside]
    assert m.finalized_round(task, 1).submissions == K
    # Round 2 draws afresh: a new seed.
    goto(env.chain, m.round_state(task).attempt_start)
    seed2, inside2, _ = drawn(env)
    assert seed2 != m.cohort_seed(task, 1)
    assert result.round == 1 and len(inside2) == K


def test_submitting_before_the_draw_reverts(anvil_chain):
    env = sampled_env(anvil_chain)
    goto(env.chain, env.market.round_state(env.task).attempt_start)
    with reverts("FedMarketCohortNotDrawn", round=1):
        env.market.submit_update(env.task, 1, cid_of("early"), 100, sender=env.members[0])


def test_nobody_learns_the_cohort_while_joining_is_open(anvil_chain):
    """A Sybil that knew round 1's cohort before joining could join only where it is drawn."""
    env = sampled_env(anvil_chain)
    assert env.market.phase(env.task) == Phase.PENDING
    with reverts("FedMarketWrongPhase", phase=Phase.PENDING):
        env.market.draw_cohort(env.task, sender=env.members[0])
    assert env.market.round_state(env.task).cohort_seed == bytes(32)


def test_a_left_out_member_cannot_re_roll_the_draw(anvil_chain):
    env = sampled_env(anvil_chain)
    m, task = env.market, env.task
    goto(env.chain, m.round_state(task).attempt_start)
    seed, _, outside = drawn(env)
    env.chain.mine()  # a new block, a new prevrandao
    receipt = m.draw_cohort(task, sender=outside[0])
    assert m.events_in(receipt, "CohortDrawn") == []
    assert m.cohort_seed(task, 1) == seed
    assert not m.in_cohort(task, outside[0].address)


def test_the_cohort_holds_through_a_retry_and_closes_after_train(anvil_chain):
    env = sampled_env(anvil_chain)
    m, task = env.market, env.task
    state = m.round_state(task)
    goto(env.chain, state.attempt_start)
    seed, inside, outside = drawn(env)
    m.submit_update(task, 1, cid_of("u0"), 100, sender=inside[0])
    goto(env.chain, state.train_end)
    with reverts("FedMarketWrongPhase", phase=Phase.ATTEST):
        m.draw_cohort(task, sender=outside[0])
    # Nobody commits: attempt 0 fails, attempt 1 opens a new train window with the same cohort.
    goto(env.chain, state.reveal_end)
    assert (m.round_state(task).phase, m.round_state(task).attempt) == (Phase.TRAIN, 1)
    m.draw_cohort(task, sender=outside[0])
    assert m.cohort_seed(task, 1) == seed
    with reverts("FedMarketNotInCohort"):
        m.submit_update(task, 1, cid_of("retry"), 100, sender=outside[1])
    m.submit_update(task, 1, cid_of("u1"), 100, sender=inside[1])


def test_tasks_without_a_cohort_have_no_draw(anvil_chain):
    env = make_env(anvil_chain, 3)
    goto(env.chain, env.market.round_state(env.task).attempt_start)
    with reverts("FedMarketNoCohort", task=env.task):
        env.market.draw_cohort(env.task, sender=env.members[0])
    assert env.market.in_cohort(env.task, env.members[0].address)
    assert not env.market.in_cohort(env.task, env.requester.address)


def test_a_cohort_smaller_than_min_submissions_is_refused(anvil_chain):
    env = make_env(anvil_chain, 0)
    with reverts("FedMarketBadCohortSize", cohortSize=1, minSubmissions=2):
        env.market.create_task(default_params(cohort_size=1), sender=env.requester)
