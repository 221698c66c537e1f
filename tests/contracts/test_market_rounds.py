"""FedMarket rounds: submissions, committee commit-reveal, finalization, retries, slashing, lineage."""

from __future__ import annotations

from ledger.committee import draw_committee
from ledger.market_types import Phase, VoteState, commitment_hash, fold_updates
from tests.contracts.market_scenario import (
    cid_of,
    default_params,
    goto,
    make_env,
    play_round,
    reverts,
    round_budget,
)

SALT = b"\x11" * 32
ROOT = b"\x22" * 32


def test_rounds_finalize_with_lineage_from_views_and_events(chain):
    env = make_env(chain, 5)
    m, task = env.market, env.task
    results = [play_round(env) for _ in range(3)]
    lineage = m.lineage(task)
    assert [e.round for e in lineage] == [1, 2, 3]
    parent = env.params.genesis
    for result, entry in zip(results, lineage, strict=True):
        assert m.finalized_round(task, result.round) == entry
        assert (entry.parent, entry.model, entry.rewards_root) == (parent, result.model, result.tree.root)
        updates = m.updates(task, result.round)
        assert [u.participant for u in updates] == [a.address for a in env.members]
        assert [u.seq for u in updates] == [0, 1, 2, 3, 4]
        assert entry.update_commitment == updates[-1].commitment
        assert entry.update_commitment == fold_updates(
            (u.participant, u.digest, u.codec, u.num_samples) for u in updates
        )
        assert (entry.submissions, entry.attempt, entry.votes) == (5, 0, 2)
        assert entry.budget == round_budget(env.params, result.round)
        assert updates[0].cid == cid_of(f"update-{result.round}-0")
        parent = result.model
        fees = m.contract.events("FeeEarned", task=task, round=result.round)
        assert [e["args"]["member"] for e in fees] == [a.address for a in result.committee[:2]]
    assert m.phase(task) == Phase.FINISHED
    assert m.current_round(task) == 4
    assert m.funds(task) == (0, 0)


def test_committee_matches_offchain_draw(chain):
    env = make_env(chain, 8, default_params(committee_size=5, quorum=3))
    m, task = env.market, env.task
    members = m.members(task)
    for attempt in range(3):
        seed = m.committee_seed(task, 1, attempt)
        expected = draw_committee(seed, members, 5)
        assert m.committee(task, 1, attempt) == expected
        assert len(set(expected)) == 5
        for account in members:
            assert m.is_committee_member(task, 1, attempt, account) == (account in expected)
    assert m.round_state(task).seed == m.committee_seed(task, 1, 0)
    first = play_round(env)
    assert [a.address for a in first.committee] == draw_committee(m.committee_seed(task, 1, 0), members, 5)
    seed2 = m.committee_seed(task, 2, 0)
    assert m.round_state(task).seed == seed2
    assert m.committee(task, 2, 0) == draw_committee(seed2, members, 5)
    with reverts("FedMarketWrongRound", round=3, expected=2):
        m.committee_seed(task, 3, 0)


def test_submit_rules(anvil_chain):
    env = make_env(anvil_chain, 3)
    m, task = env.market, env.task
    alice, bob = env.members[0], env.members[1]
    update = cid_of("u")
    with reverts("FedMarketWrongPhase", phase=Phase.PENDING):
        m.submit_update(task, 1, update, 10, sender=alice)
    state = m.round_state(task)
    goto(anvil_chain, state.attempt_start)
    with reverts("FedMarketWrongRound", round=2, expected=1):
        m.submit_update(task, 2, update, 10, sender=alice)
    with reverts("FedMarketNotMember", account=anvil_chain.accounts[8].address):
        m.submit_update(task, 1, update, 10, sender=anvil_chain.accounts[8])
    m.submit_update(task, 1, update, 10, sender=alice)
    with reverts("FedMarketAlreadySubmitted", round=1, account=alice.address):
        m.submit_update(task, 1, cid_of("other"), 10, sender=alice)
    assert m.member(task, alice.address).last_submitted_round == 1
    assert m.round_state(task).submissions == 1
    goto(anvil_chain, state.train_end)
    with reverts("FedMarketWrongPhase", phase=Phase.COMMIT):  # late submit
        m.submit_update(task, 1, update, 10, sender=bob)


def _to_commit_phase(env, submitters):
    m, task = env.market, env.task
    state = m.round_state(task)
    goto(env.chain, state.attempt_start)
    for i, account in enumerate(submitters):
        m.submit_update(env.task, state.round, cid_of(f"u{i}-{state.attempt}"), 10, sender=account)
    goto(env.chain, state.train_end)
    committee = [env.by_address[a] for a in m.committee(task, state.round, state.attempt)]
    outsiders = [a for a in env.members if a not in committee]
    return m.round_state(task), committee, outsiders


def test_commit_rules(anvil_chain):
    env = make_env(anvil_chain, 5)
    m, task = env.market, env.task
    model = cid_of("model")
    state = m.round_state(task)
    goto(anvil_chain, state.attempt_start)
    with reverts("FedMarketWrongPhase", phase=Phase.TRAIN):
        m.commit(task, 1, model, ROOT, SALT, sender=env.members[0])
    m.submit_update(task, 1, cid_of("only"), 10, sender=env.members[0])
    goto(anvil_chain, state.train_end)
    committee = [env.by_address[a] for a in m.committee(task, 1, 0)]
    outsider = next(a for a in env.members if a not in committee)
    with reverts("FedMarketTooFewSubmissions", submissions=1, needed=2):
        m.commit(task, 1, model, ROOT, SALT, sender=committee[0])
    with reverts("FedMarketNotInCommittee", round=1, attempt=0, account=outsider.address):
        m.commit(task, 1, model, ROOT, SALT, sender=outsider)
    with reverts("FedMarketNotMember"):
        m.commit(task, 1, model, ROOT, SALT, sender=anvil_chain.accounts[9])
    with reverts("FedMarketWrongRound", round=2, expected=1):
        m.commit(task, 2, model, ROOT, SALT, sender=committee[0])


def test_commit_twice_and_reveal_rules(anvil_chain):
    env = make_env(anvil_chain, 5)
    m, task = env.market, env.task
    state, committee, _ = _to_commit_phase(env, env.members)
    a, b, c = committee
    model = cid_of("model")
    m.commit(task, 1, model, ROOT, SALT, sender=a)
    with reverts("FedMarketAlreadyCommitted", round=1, attempt=0, account=a.address):
        m.commit(task, 1, model, ROOT, SALT, sender=a)
    # b copies a's commitment hash: it can never open it (the sender is inside the hash)
    m.commit_raw(task, 1, commitment_hash(model, ROOT, SALT, a.address), sender=b)
    with reverts("FedMarketRevealClosed", round=1, attempt=0):  # still the commit phase
        m.reveal(task, 1, 0, model, ROOT, SALT, sender=a)
    goto(anvil_chain, state.commit_end)
    with reverts("FedMarketRevealMismatch", round=1, account=b.address):  # copy attack
        m.reveal(task, 1, 0, model, ROOT, SALT, sender=b)
    with reverts("FedMarketRevealMismatch", round=1, account=a.address):  # wrong salt
        m.reveal(task, 1, 0, model, ROOT, b"\x12" * 32, sender=a)
    with reverts("FedMarketRevealMismatch", round=1, account=a.address):  # another result
        m.reveal(task, 1, 0, cid_of("other"), ROOT, SALT, sender=a)
    with reverts("FedMarketNoCommitment", round=1, attempt=0, account=c.address):
        m.reveal(task, 1, 0, model, ROOT, SALT, sender=c)
    with reverts("FedMarketNoCommitment", round=1, attempt=1, account=a.address):
        m.reveal(task, 1, 1, model, ROOT, SALT, sender=a)
    with reverts("FedMarketNotMember"):
        m.reveal(task, 1, 0, model, ROOT, SALT, sender=anvil_chain.accounts[9])
    m.reveal(task, 1, 0, model, ROOT, SALT, sender=a)
    assert m.votes_for(task, 1, 0, model, ROOT) == 1
    assert m.member(task, a.address).vote_state == VoteState.REVEALED
    with reverts("FedMarketNoCommitment", round=1, attempt=0, account=a.address):  # twice
        m.reveal(task, 1, 0, model, ROOT, SALT, sender=a)
    with reverts("FedMarketRoundNotFinalized", round=1):
        m.finalized_round(task, 1)


def test_no_quorum_retries_with_new_committee_then_finalizes(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 6, default_params(max_retries=2))
    m, task = env.market, env.task
    late_member = env.members[5]
    state, committee, _ = _to_commit_phase(env, env.members[:5])
    a, b, c = committee
    # a and b reveal different results, c commits and never reveals: no quorum
    m.commit(task, 1, cid_of("A"), ROOT, SALT, sender=a)
    m.commit(task, 1, cid_of("B"), ROOT, SALT, sender=b)
    m.commit(task, 1, cid_of("C"), ROOT, SALT, sender=c)
    goto(chain, state.commit_end)
    m.reveal(task, 1, 0, cid_of("A"), ROOT, SALT, sender=a)
    m.reveal(task, 1, 0, cid_of("B"), ROOT, SALT, sender=b)
    with reverts("FedMarketNotSettleable", account=c.address):  # its window is still open
        m.settle(task, c.address, sender=a)
    goto(chain, state.reveal_end)
    retry = m.round_state(task)
    assert (retry.round, retry.attempt, retry.phase) == (1, 1, Phase.TRAIN)
    assert retry.submissions == 5 and retry.attempt_start == state.reveal_end
    assert retry.seed != state.seed
    with reverts("FedMarketRevealClosed", round=1, attempt=0):
        m.reveal(task, 1, 0, cid_of("C"), ROOT, SALT, sender=c)
    # c never revealed: slashed by anyone; a and b revealed in a failed attempt: not slashed
    m.settle(task, c.address, sender=late_member)
    [slash] = m.contract.events("Slashed", task=task)
    assert slash["args"]["member"] == c.address and slash["args"]["amount"] == env.params.stake // 2
    assert m.funds(task)[1] == env.params.stake // 2
    m.settle(task, a.address, sender=late_member)
    assert m.member(task, a.address).balance == env.params.stake
    with reverts("FedMarketNotSettleable", account=a.address):  # nothing left to settle
        m.settle(task, a.address, sender=late_member)
    with reverts("FedMarketNotMember"):
        m.settle(task, chain.accounts[9].address, sender=late_member)
    # the retry's train window accepts members who had not submitted
    m.submit_update(task, 1, cid_of("late-member"), 10, sender=late_member)
    result = play_round(env, submitters=[])
    assert result.attempt == 1
    entry = m.finalized_round(task, 1)
    assert (entry.attempt, entry.submissions) == (1, 6)
    assert entry.budget == round_budget(env.params, 1, env.params.stake // 2)
    assert m.funds(task)[1] == 0


def test_retries_exhausted_close_the_task(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 3, default_params(max_retries=1))
    m, task = env.market, env.task
    start = m.round_state(task).attempt_start
    length = 200
    goto(chain, start + 2 * length)
    assert m.phase(task) == Phase.CLOSED
    assert m.ended(task)
    with reverts("FedMarketWrongPhase", phase=Phase.CLOSED):
        m.submit_update(task, 1, cid_of("x"), 1, sender=env.members[0])
    m.refund(task, sender=env.requester)
    assert m.funds(task) == (0, 0)
    with reverts("FedMarketNothingToPay"):
        m.refund(task, sender=env.requester)


def test_mismatching_and_late_reveals_are_slashed(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 7, default_params(committee_size=5, quorum=3))
    m, task = env.market, env.task
    state, committee, _ = _to_commit_phase(env, env.members)
    good, bad = cid_of("good"), cid_of("bad")
    votes = [good, bad, good, good, bad]
    for account, model in zip(committee, votes, strict=True):
        m.commit(task, 1, model, ROOT, SALT, sender=account)
    goto(chain, state.commit_end)
    m.reveal(task, 1, 0, bad, ROOT, SALT, sender=committee[1])
    m.reveal(task, 1, 0, good, ROOT, SALT, sender=committee[0])
    m.reveal(task, 1, 0, good, ROOT, SALT, sender=committee[2])
    m.reveal(task, 1, 0, good, ROOT, SALT, sender=committee[3])  # quorum: finalized
    assert m.finalized_round(task, 1).model == good
    fees = [e["args"]["member"] for e in m.contract.events("FeeEarned", task=task)]
    assert fees == [committee[0].address, committee[2].address, committee[3].address]
    fee, stake, half = env.params.committee_fee, env.params.stake, env.params.stake // 2
    assert m.member(task, committee[0].address).balance == stake + fee
    assert m.member(task, committee[0].address).vote_state == VoteState.NONE
    # a late reveal of a different result is slashed on the spot
    m.reveal(task, 1, 0, bad, ROOT, SALT, sender=committee[4])
    assert m.member(task, committee[4].address).balance == stake - half
    assert m.votes_for(task, 1, 0, bad, ROOT) == 2
    # the early mismatching revealer is slashed once its window closed
    with reverts("FedMarketNotSettleable", account=committee[1].address):
        m.settle(task, committee[1].address, sender=committee[0])
    goto(chain, state.reveal_end)
    m.settle(task, committee[1].address, sender=committee[0])
    assert m.member(task, committee[1].address).balance == stake - half
    assert m.funds(task)[1] == 2 * half
    slashed = [e["args"]["member"] for e in m.contract.events("Slashed", task=task)]
    assert slashed == [committee[4].address, committee[1].address]


def test_late_matching_reveal_keeps_stake_without_fee(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 3)
    m, task = env.market, env.task
    result = play_round(env, reveal_all=False)
    late = result.committee[2]
    salt = __import__("hashlib").sha256(f"salt-{result.round}".encode()).digest()
    m.reveal(task, 1, 0, result.model, result.tree.root, salt, sender=late)
    info = m.member(task, late.address)
    assert (info.balance, info.vote_state) == (env.params.stake, VoteState.NONE)
    assert m.votes_for(task, 1, 0, result.model, result.tree.root) == 3
    assert m.finalized_round(task, 1).votes == 2  # the record never changes
