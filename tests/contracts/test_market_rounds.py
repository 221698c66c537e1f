"""FedMarket rounds: submissions, the late seed, seat-weighted commit-reveal, finalization,
retries, slashing, lineage.

Seats are drawn from each attempt's locked seed, so which member holds how many differs by
attempt; tests read the draw from the chain (``seat_holders``) and state the seat layout they
rely on as a precondition.
"""

from __future__ import annotations

from ledger.availability import attest, encode_held
from ledger.committee import seat_owners
from ledger.market_types import Phase, VoteState, commitment_hash, fold_updates
from tests.contracts.market_scenario import (
    cid_of,
    commit_all,
    default_params,
    goto,
    lock_and_seat,
    make_env,
    play_round,
    quorum_of,
    reverts,
    round_budget,
    settle_window,
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
        view = m.finalized_round(task, result.round)
        assert view == type(view)(**{**entry.__dict__, "update_commitment": None})
        assert (entry.parent, entry.model, entry.rewards_root) == (parent, result.model, result.tree.root)
        updates = m.updates(task, result.round)
        assert [u.participant for u in updates] == [a.address for a in env.members]
        assert [u.seq for u in updates] == [0, 1, 2, 3, 4]
        assert entry.update_commitment == updates[-1].commitment
        assert entry.update_commitment == fold_updates(
            (u.participant, u.digest, u.codec, u.num_samples) for u in updates
        )
        assert (entry.submissions, entry.attempt) == (5, 0)
        assert entry.votes >= env.params.quorum  # the seats that reached the quorum
        assert entry.budget == round_budget(env.params, result.round)
        assert updates[0].cid == cid_of(f"update-{result.round}-0")
        parent = result.model
    assert m.phase(task) == Phase.FINISHED
    assert m.current_round(task) == 4
    assert [e["args"]["rounds"] for e in m.contract.events("TaskFinished", task=task)] == [3]
    assert not m.ended(task)  # the last challenge window is still open
    settle_window(env)
    assert m.ended(task)


def test_seats_match_the_offchain_draw_and_the_seed_is_late(chain):
    env = make_env(chain, 8, default_params(committee_size=5, quorum=3, dispute_size=11))
    m, task = env.market, env.task
    members = m.members(task)
    stakes = [m.member(task, a).stake for a in members]
    state = m.round_state(task)
    goto(chain, state.attempt_start)
    for i, account in enumerate(env.members):
        m.submit_update(task, 1, cid_of(f"u{i}"), 1, sender=account)
    with reverts("FedMarketWrongPhase", phase=Phase.TRAIN):  # no seed while updates can land
        m.lock_seed(task, sender=env.members[0])
    goto(chain, state.train_end)
    with reverts("FedMarketSeedNotLocked", round=1, attempt=0):
        attest(m, task, 1, encode_held(range(8), 8), sender=env.members[0])
    goto(chain, state.attest_end)  # nobody locked in the attest window: the commit window may
    with reverts("FedMarketSeedNotLocked", round=1, attempt=0):
        m.commit(task, 1, 0, cid_of("m"), ROOT, SALT, sender=env.members[0])
    assert m.round_state(task).seed == bytes(32)
    m.lock_seed(task, sender=env.members[3])
    seed = m.round_state(task).seed
    [locked] = m.contract.events("SeedLocked", task=task)
    assert (locked["args"]["seed"], locked["args"]["totalStake"]) == (seed, sum(stakes))
    m.lock_seed(task, sender=env.members[4])  # idempotent: the seed does not move
    assert m.round_state(task).seed == seed and len(m.contract.events("SeedLocked", task=task)) == 1
    owners = seat_owners(seed, 5, members, stakes)
    assert m.committee(task) == owners
    for account in members:
        assert m.seats_of(task, account) == owners.count(account)


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
    with reverts("FedMarketWrongPhase", phase=Phase.ATTEST):  # late submit
        m.submit_update(task, 1, update, 10, sender=bob)
    goto(anvil_chain, state.attest_end)
    with reverts("FedMarketWrongPhase", phase=Phase.COMMIT):
        m.submit_update(task, 1, update, 10, sender=bob)


def _to_commit_phase(env, submitters, wanted=lambda holders: True):
    m = env.market
    state = m.round_state(env.task)
    goto(env.chain, state.attempt_start)
    for i, account in enumerate(submitters):
        m.submit_update(env.task, state.round, cid_of(f"u{i}-{state.attempt}"), 10, sender=account)
    holders = lock_and_seat(env, wanted)
    outsiders = [a for a in env.members if a not in holders]
    return m.round_state(env.task), holders, outsiders


def test_commit_rules(anvil_chain):
    env = make_env(anvil_chain, 6)
    m, task = env.market, env.task
    model = cid_of("model")
    state = m.round_state(task)
    goto(anvil_chain, state.attempt_start)
    with reverts("FedMarketWrongPhase", phase=Phase.TRAIN):
        m.commit(task, 1, 0, model, ROOT, SALT, sender=env.members[0])
    m.submit_update(task, 1, cid_of("only"), 10, sender=env.members[0])
    holders = lock_and_seat(env, wanted=lambda holders: len(holders) < len(env.members))
    outsider = next(a for a in env.members if a not in holders)
    with reverts("FedMarketTooFewSubmissions", submissions=1, needed=2):
        m.commit(task, 1, 0, model, ROOT, SALT, sender=holders[0])
    with reverts("FedMarketNotMember"):
        m.commit(task, 1, 0, model, ROOT, SALT, sender=anvil_chain.accounts[9])
    with reverts("FedMarketWrongRound", round=2, expected=1):
        m.commit(task, 2, 0, model, ROOT, SALT, sender=holders[0])
    assert m.seats_of(task, outsider.address) == 0


def test_outsiders_cannot_commit(anvil_chain):
    env = make_env(anvil_chain, 6)
    m, task = env.market, env.task
    _, _holders, outsiders = _to_commit_phase(
        env, env.members, wanted=lambda holders: len(holders) < len(env.members))
    assert outsiders, "precondition: 3 seats among 6 members leave someone out"
    with reverts("FedMarketNotInCommittee", round=1, attempt=0, account=outsiders[0].address):
        m.commit(task, 1, 0, cid_of("model"), ROOT, SALT, sender=outsiders[0])


def test_commit_twice_and_reveal_rules(anvil_chain):
    env = make_env(anvil_chain, 6)
    m, task = env.market, env.task
    state, holders, outsiders = _to_commit_phase(env, env.members,
                                                 wanted=lambda holders: len(holders) > 1)
    a = holders[0]
    model = cid_of("model")
    m.commit(task, 1, 0, model, ROOT, SALT, sender=a)
    with reverts("FedMarketAlreadyCommitted", round=1, attempt=0, account=a.address):
        m.commit(task, 1, 0, model, ROOT, SALT, sender=a)
    assert len(holders) > 1, "precondition: two seat holders"
    copier = holders[1]
    # the copier commits a's hash: it can never open it (the sender is inside the hash)
    m.commit_raw(task, 1, m.commitment(task, 1, 0, model, ROOT, SALT, a.address), sender=copier)
    with reverts("FedMarketRevealClosed", round=1, attempt=0):  # still the commit phase
        m.reveal(task, 1, 0, model, ROOT, SALT, sender=a)
    goto(anvil_chain, state.commit_end)
    with reverts("FedMarketRevealMismatch", round=1, account=copier.address):  # copy attack
        m.reveal(task, 1, 0, model, ROOT, SALT, sender=copier)
    with reverts("FedMarketRevealMismatch", round=1, account=a.address):  # wrong salt
        m.reveal(task, 1, 0, model, ROOT, b"\x12" * 32, sender=a)
    with reverts("FedMarketRevealMismatch", round=1, account=a.address):  # another result
        m.reveal(task, 1, 0, cid_of("other"), ROOT, SALT, sender=a)
    with reverts("FedMarketNoCommitment", round=1, attempt=0, account=outsiders[0].address):
        m.reveal(task, 1, 0, model, ROOT, SALT, sender=outsiders[0])
    with reverts("FedMarketNoCommitment", round=1, attempt=1, account=a.address):
        m.reveal(task, 1, 1, model, ROOT, SALT, sender=a)
    with reverts("FedMarketNotMember"):
        m.reveal(task, 1, 0, model, ROOT, SALT, sender=anvil_chain.accounts[9])
    m.reveal(task, 1, 0, model, ROOT, SALT, sender=a)
    assert m.votes_for(task, 1, 0, model, ROOT) == m.seats_of(task, a.address)
    alone = m.seats_of(task, a.address) >= env.params.quorum  # its reveal finalized the round
    assert m.member(task, a.address).vote_state == (VoteState.FINALIZED if alone else VoteState.REVEALED)
    with reverts("FedMarketNoCommitment", round=1, attempt=0, account=a.address):  # twice
        m.reveal(task, 1, 0, model, ROOT, SALT, sender=a)


def test_a_commitment_is_bound_to_chain_market_task_round_and_attempt(anvil_chain):
    env = make_env(anvil_chain, 6)
    m, task = env.market, env.task
    state, holders, _ = _to_commit_phase(env, env.members)
    a = holders[0]
    model = cid_of("model")
    chain_id = m.chain_id
    elsewhere = [  # the same vote, committed for another context, cannot be opened here
        {"chain_id": chain_id + 1, "market": m.address, "task": task, "round_": 1, "attempt": 0},
        {"chain_id": chain_id, "market": env.requester.address, "task": task, "round_": 1, "attempt": 0},
        {"chain_id": chain_id, "market": m.address, "task": task + 1, "round_": 1, "attempt": 0},
        {"chain_id": chain_id, "market": m.address, "task": task, "round_": 2, "attempt": 0},
        {"chain_id": chain_id, "market": m.address, "task": task, "round_": 1, "attempt": 1},
        {"chain_id": chain_id, "market": m.address, "task": task, "round_": 1, "attempt": 0, "kind": 1},
    ]
    hashes = {commitment_hash(model, ROOT, SALT, a.address, **ctx) for ctx in elsewhere}
    right = m.commitment(task, 1, 0, model, ROOT, SALT, a.address)
    assert right not in hashes and len(hashes) == len(elsewhere)
    m.commit_raw(task, 1, commitment_hash(model, ROOT, SALT, a.address, **elsewhere[4]), sender=a)
    goto(anvil_chain, state.commit_end)
    with reverts("FedMarketRevealMismatch", round=1, account=a.address):
        m.reveal(task, 1, 0, model, ROOT, SALT, sender=a)


def test_no_quorum_retries_with_a_new_seed_then_finalizes(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 6, default_params(committee_size=5, quorum=3, dispute_size=11,
                                            max_retries=2))
    m, task = env.market, env.task
    late_member = env.members[5]
    state, holders, _ = _to_commit_phase(
        env, env.members[:5],
        wanted=lambda holders: max(m.seats_of(task, a.address) for a in holders) < 3)
    seats = {a.address: m.seats_of(task, a.address) for a in holders}
    assert max(seats.values()) < 3, "precondition: nobody holds a quorum alone"
    silent = holders[-1]
    for i, account in enumerate(holders):  # everyone a different result: no quorum
        m.commit(task, 1, 0, cid_of(f"R{i}"), ROOT, SALT, sender=account)
    goto(chain, state.commit_end)
    for i, account in enumerate(holders[:-1]):
        m.reveal(task, 1, 0, cid_of(f"R{i}"), ROOT, SALT, sender=account)
    with reverts("FedMarketNotSettleable", account=silent.address):  # its window is still open
        m.settle(task, silent.address, sender=late_member)
    goto(chain, state.reveal_end)
    retry = m.round_state(task)
    assert (retry.round, retry.attempt, retry.phase) == (1, 1, Phase.TRAIN)
    assert retry.submissions == 5 and retry.attempt_start == state.reveal_end
    with reverts("FedMarketRevealClosed", round=1, attempt=0):
        m.reveal(task, 1, 0, cid_of(f"R{len(holders) - 1}"), ROOT, SALT, sender=silent)
    # the silent holder is slashed by anyone; the others revealed in a failed attempt: kept
    m.settle(task, silent.address, sender=late_member)
    [slash] = m.contract.events("Slashed", task=task)
    assert slash["args"]["member"] == silent.address
    assert slash["args"]["amount"] == env.params.min_stake // 2
    assert m.funds(task)[0] == env.params.min_stake // 2
    m.settle(task, holders[0].address, sender=late_member)
    assert m.member(task, holders[0].address).balance == env.params.min_stake
    with reverts("FedMarketNotSettleable", account=holders[0].address):  # nothing left
        m.settle(task, holders[0].address, sender=late_member)
    with reverts("FedMarketNotMember"):
        m.settle(task, chain.accounts[9].address, sender=late_member)
    # the retry's train window accepts members who had not submitted
    m.submit_update(task, 1, cid_of("late-member"), 10, sender=late_member)
    result = play_round(env, submitters=[])
    assert result.attempt == 1
    assert m.last_draw(task)[:2] == (1, 1)  # a fresh seed for the retry
    entry = m.finalized_round(task, 1)
    assert (entry.attempt, entry.submissions) == (1, 6)
    assert entry.budget == round_budget(env.params, 1)  # slashes never join a budget


def test_retries_exhausted_close_the_task_and_sweep_returns_the_bounty(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 3, default_params(max_retries=1))
    m, task = env.market, env.task
    start = m.round_state(task).attempt_start
    attempt = 100 + 2 * 50 + 50  # train + attest (= commit) + commit + reveal
    goto(chain, start + 2 * attempt - 1)
    assert m.phase(task) == Phase.REVEAL
    goto(chain, start + 2 * attempt)
    assert m.phase(task) == Phase.CLOSED
    assert m.ended(task)
    with reverts("FedMarketWrongPhase", phase=Phase.CLOSED):
        m.submit_update(task, 1, cid_of("x"), 1, sender=env.members[0])
    m.sweep(task, sender=env.requester)
    assert m.funds(task)[1] == env.params.bounty
    with reverts("FedMarketNothingToPay"):
        m.sweep(task, sender=env.requester)
    [closed] = m.contract.events("TaskClosed", task=task)
    assert closed["args"]["closedAt"] == start + 2 * attempt


def test_mismatching_reveals_are_slashed_once_the_round_is_settled(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 7, default_params(committee_size=5, quorum=3, dispute_size=11))
    m, task = env.market, env.task
    state, holders, _ = _to_commit_phase(
        env, env.members, wanted=lambda holders: len(quorum_of(env, holders)) < len(holders))
    good, bad = cid_of("good"), cid_of("bad")
    seats = {a.address: m.seats_of(task, a.address) for a in holders}
    # the leading holders that reach 3 seats vote good, the rest bad
    honest = quorum_of(env, holders)
    liars = [a for a in holders if a not in honest]
    assert liars, "precondition: some seat holder is left outside the quorum"
    commit_all(env, honest, good, ROOT, SALT)
    commit_all(env, liars, bad, ROOT, SALT)
    goto(chain, state.commit_end)
    m.reveal(task, 1, 0, bad, ROOT, SALT, sender=liars[0])
    for account in honest:
        m.reveal(task, 1, 0, good, ROOT, SALT, sender=account)
    assert m.finalized_round(task, 1).model == good
    for account in liars[1:]:  # late reveals of another result: recorded, settled later
        m.reveal(task, 1, 0, bad, ROOT, SALT, sender=account)
    assert m.votes_for(task, 1, 0, bad, ROOT) == sum(seats[a.address] for a in liars)
    # nothing is settled while the round can still be challenged
    with reverts("FedMarketNotSettleable", account=liars[0].address):
        m.settle(task, liars[0].address, sender=honest[0])
    settle_window(env)
    fee, stake, half = env.params.committee_fee, env.params.min_stake, env.params.min_stake // 2
    for account in liars:
        m.settle(task, account.address, sender=honest[0])
        assert m.member(task, account.address).balance == stake - half
    for account in honest:  # pull fees: one per seat of the final result
        m.settle(task, account.address, sender=liars[0])
        assert m.member(task, account.address).balance == stake + fee * seats[account.address]
    assert m.funds(task)[0] == len(liars) * half
    slashed = [e["args"]["member"] for e in m.contract.events("Slashed", task=task)]
    assert slashed == [a.address for a in liars]


def test_late_matching_reveal_keeps_stake_and_earns_its_fee(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 6)
    m, task = env.market, env.task
    result = play_round(env, reveal_all=False,
                        wanted=lambda holders: len(quorum_of(env, holders)) < len(holders))
    late = [a for a in result.committee if a not in quorum_of(env, result.committee)]
    assert late, "precondition: a seat holder outside the quorum"
    late = late[0]
    salt = __import__("hashlib").sha256(f"salt-{result.round}".encode()).digest()
    votes = m.finalized_round(task, 1).votes
    m.reveal(task, 1, 0, result.model, result.tree.root, salt, sender=late)
    assert m.finalized_round(task, 1).votes == votes  # the record never changes
    settle_window(env)
    m.settle(task, late.address, sender=late)
    info = m.member(task, late.address)
    fee = env.params.committee_fee * m.seats_of(task, late.address)
    assert (info.balance, info.vote_state) == (env.params.min_stake + fee, VoteState.NONE)
