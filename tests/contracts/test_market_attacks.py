"""The attacks of issue #12, each shown failing on anvil.

* a 2-of-3 lying quorum is challenged and overturned before one wei of the round moves: the
  liars lose their balance (half to the challenger), the honest revealer is paid its fee and
  never slashed, every claim waits for the dispute;
* Sybils joining last with many accounts hold exactly the seats their total stake buys;
* drawn members who abstain are slashed like silent ones;
* after slashing, a dispute and unclaimed rewards, the task ends at exactly zero.
"""

from __future__ import annotations

from ledger.committee import seats_in
from ledger.market_types import DisputeState, Phase
from ledger.merkle import build_reward_tree
from tests.contracts.market_scenario import (
    ETHER,
    balance,
    cid_of,
    default_params,
    first_block_where,
    goto,
    lock_and_seat,
    make_env,
    pubkey_of,
    reverts,
)

SALT = b"\x44" * 32


def _submit_all(env):
    m = env.market
    goto(env.chain, m.round_state(env.task).attempt_start)
    for i, account in enumerate(env.members):
        m.submit_update(env.task, 1, cid_of(f"u{i}"), 10, sender=account)


def test_a_lying_quorum_is_overturned_before_any_money_moves(anvil_chain):
    chain = anvil_chain
    params = default_params(rounds=1, bounty=3 * ETHER, min_submissions=1)
    env = make_env(chain, 0, params)
    m, task = env.market, env.task
    liars, honest = chain.accounts[1:3], chain.accounts[3:5]
    for i, account in enumerate(liars + honest):  # liars stake 3 ETH each, honest 1 ETH each
        m.join(task, pubkey_of(i), stake=(3 if account in liars else 1) * ETHER, sender=account)
    env.members[:] = liars + honest
    env.by_address.update({a.address: a for a in env.members})
    budget = params.round_budget(1)
    good_tree = build_reward_tree((a.address, budget // 4) for a in env.members)
    bad_tree = build_reward_tree([(liars[0].address, budget)])  # the liars pay themselves
    good, bad = (cid_of("good"), good_tree.root), (cid_of("bad"), bad_tree.root)
    _submit_all(env)
    holders = lock_and_seat(
        env, wanted=lambda holders: sum(m.seats_of(task, a.address) for a in liars) >= 2)
    seats = {a.address: m.seats_of(task, a.address) for a in holders}
    assert sum(seats.get(a.address, 0) for a in liars) >= 2, "precondition: the liars hold a quorum"
    for account in holders:
        result = bad if account in liars else good
        m.commit(task, 1, 0, *result, SALT, sender=account)
    state = m.round_state(task)
    goto(chain, state.commit_end)
    for account in holders:
        m.reveal(task, 1, 0, *(bad if account in liars else good), SALT, sender=account)
    assert m.finalized_round(task, 1).model == bad[0]  # the lie finalized...
    challenger = honest[0]
    before_challenge = balance(chain, m.address)
    m.challenge(task, 1, *good, sender=challenger)
    assert balance(chain, m.address) == before_challenge + params.challenge_bond
    with reverts("FedMarketAlreadyChallenged", round=1):
        m.challenge(task, 1, *good, sender=honest[1])
    assert m.phase(task) == Phase.DISPUTED
    # ...but nothing of the round is payable while it is disputed
    with reverts("FedMarketRoundNotSettled", round=1):
        m.claim(task, 1, liars[0].address, budget, bad_tree.proof(liars[0].address), sender=liars[0])
    with reverts("FedMarketTaskNotEnded"):
        m.withdraw_stake(task, sender=liars[0])
    total = m.last_draw(task)[4]

    def lock_dispute_seats() -> dict[str, int]:
        m.lock_dispute_seed(task, 1, sender=honest[1])
        seed = m.dispute(task, 1).seed
        return {a.address: seats_in(seed, params.dispute_size, total,
                                    m.member(task, a.address).stake_start,
                                    m.member(task, a.address).stake) for a in env.members}

    dispute_seats = first_block_where(
        chain, lock_dispute_seats, lambda seats: any(seats[a.address] for a in honest))
    info = m.dispute(task, 1)
    assert m.dispute_committee(task, 1).count(honest[0].address) == dispute_seats[honest[0].address]
    voters = [a for a in honest if dispute_seats[a.address] > 0]
    assert voters, "precondition: an honest member holds a dispute seat"
    for liar in liars:  # the challenged quorum sits out the dispute
        if liar in holders:
            with reverts("FedMarketNotInCommittee", round=1, attempt=255, account=liar.address):
                m.dispute_commit(task, 1, *bad, SALT, sender=liar)
    for account in voters:
        m.dispute_commit(task, 1, *good, SALT, sender=account)
    with reverts("FedMarketDisputeNotOver"):
        m.resolve_dispute(task, 1, *good, sender=honest[1])
    goto(chain, info.commit_end)
    for account in voters:
        m.dispute_reveal(task, 1, *good, SALT, sender=account)
    goto(chain, info.reveal_end)
    with reverts("FedMarketNotLeader", round=1):
        m.resolve_dispute(task, 1, *bad, sender=honest[1])
    m.resolve_dispute(task, 1, *good, sender=honest[1])
    entry = m.finalized_round(task, 1)
    assert (entry.model, entry.rewards_root, entry.dispute) == (*good, DisputeState.OVERTURNED)
    assert m.lineage(task)[0].model == good[0]  # the events say so too
    assert m.contract.events("RewardClaimed", task=task) == []  # not one wei paid before this
    # the liars lose everything, half to the challenger; the honest revealers earn their fee
    fee = params.committee_fee
    for liar in liars:
        if liar in holders:
            lost = m.member(task, liar.address).balance
            m.settle(task, liar.address, sender=challenger)
            assert m.member(task, liar.address).balance == 0
            [slash] = m.contract.events("Slashed", task=task, member=liar.address)
            assert (slash["args"]["amount"], slash["args"]["toChallenger"]) == (lost, lost // 2)
    for account in honest:
        if account in holders:
            m.settle(task, account.address, sender=account)
    assert [e["args"]["member"] for e in m.contract.events("Slashed", task=task)
            if e["args"]["member"] in {a.address for a in honest}] == []
    for account in env.members:
        m.claim(task, 1, account.address, budget // 4, good_tree.proof(account.address), sender=account)
    # everyone withdraws; after the claim deadline the requester sweeps: the task holds zero
    for account in env.members:
        if m.member(task, account.address).balance:
            m.withdraw_stake(task, sender=account)
    goto(chain, m.end_time(task)[1])
    m.sweep(task, sender=env.requester)
    assert balance(chain, m.address) == 0
    honest_fees = sum(e["args"]["amount"] for e in m.contract.events("FeeEarned", task=task))
    assert honest_fees == fee * sum(seats.get(a.address, 0) for a in honest)


def test_sybils_joining_last_hold_exactly_the_seats_their_stake_buys(anvil_chain):
    chain = anvil_chain
    params = default_params(max_participants=20, committee_size=5, quorum=3, dispute_size=11)
    env = make_env(chain, 6, params)
    m, task = env.market, env.task
    sybils = chain.accounts[7:13]  # the attacker's 6 accounts, joining last
    for i, account in enumerate(sybils):
        m.join(task, pubkey_of(20 + i), sender=account)
    start = m.member(task, sybils[0].address).stake_start
    _submit_all(env)
    goto(chain, m.round_state(task).train_end)
    m.lock_seed(task, sender=env.requester)
    seed, total = m.round_state(task).seed, m.last_draw(task)[4]
    split = sum(m.seats_of(task, a.address) for a in sybils)
    whole = seats_in(seed, 5, total, start, len(sybils) * params.min_stake)
    assert split == whole  # one account with the same stake holds the same seats


def test_abstaining_seat_holders_are_slashed(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 6)
    m, task = env.market, env.task
    _submit_all(env)
    holders = lock_and_seat(env, wanted=lambda holders: len(holders) > 1)
    voter, absent = holders[0], holders[-1]
    assert voter != absent, "precondition: two seat holders"
    outsider = next(a for a in env.members if a not in holders)
    m.commit(task, 1, 0, cid_of("m"), b"\x01" * 32, SALT, sender=voter)
    with reverts("FedMarketNotAbsent", round=1, attempt=0, account=absent.address):
        m.slash_absent(task, absent.address, 1, 0, sender=voter)  # it may still commit
    goto(chain, m.round_state(task).commit_end)
    with reverts("FedMarketNotAbsent", account=voter.address):
        m.slash_absent(task, voter.address, 1, 0, sender=outsider)  # it committed
    with reverts("FedMarketNotInCommittee", account=outsider.address):
        m.slash_absent(task, outsider.address, 1, 0, sender=voter)
    m.slash_absent(task, absent.address, 1, 0, sender=outsider)  # permissionless
    assert m.member(task, absent.address).balance == env.params.min_stake // 2
    with reverts("FedMarketNotAbsent", account=absent.address):  # once
        m.slash_absent(task, absent.address, 1, 0, sender=outsider)
    [slash] = m.contract.events("Slashed", task=task)
    assert (slash["args"]["member"], slash["args"]["attempt"]) == (absent.address, 0)
