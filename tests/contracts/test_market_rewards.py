"""FedMarket rewards: Merkle claims, double claims, budgets, reentrancy, stake withdrawal with fees."""

from __future__ import annotations

from eth_utils import keccak

from ledger.chain import Contract
from ledger.merkle import build_reward_tree
from tests.contracts.market_scenario import (
    ETHER,
    balance,
    cid_of,
    gas_cost,
    goto,
    make_env,
    play_round,
    pubkey_of,
    reverts,
)

SALT = b"\x33" * 32


def test_claim_pays_once_and_double_claim_fails(chain):
    env = make_env(chain, 4)
    m, task = env.market, env.task
    with reverts("FedMarketRoundNotFinalized", round=1):
        m.claim(task, 1, env.members[0].address, 1, [], sender=env.members[0])
    result = play_round(env)
    alice, bob = env.members[0], env.members[1]
    amount = result.tree.amount_of(alice.address)
    proof = result.tree.proof(alice.address)
    before = balance(chain, alice.address)
    receipt = m.claim(task, 1, alice.address, amount, proof, sender=alice)
    assert balance(chain, alice.address) == before + amount - gas_cost(receipt)
    assert m.claimed(task, 1, alice.address) and not m.claimed(task, 1, bob.address)
    assert m.round_paid(task, 1) == amount
    [event] = m.contract.events("RewardClaimed", task=task, account=alice.address)
    assert event["args"]["amount"] == amount
    with reverts("FedMarketAlreadyClaimed", round=1, account=alice.address):
        m.claim(task, 1, alice.address, amount, proof, sender=bob)


def test_claim_rejects_bad_proofs_and_strangers(anvil_chain):
    env = make_env(anvil_chain, 4)
    m, task = env.market, env.task
    result = play_round(env)
    alice, bob = env.members[0], env.members[1]
    amount = result.tree.amount_of(alice.address)
    with reverts("FedMarketInvalidProof", account=alice.address, amount=amount + 1):
        m.claim(task, 1, alice.address, amount + 1, result.tree.proof(alice.address), sender=alice)
    with reverts("FedMarketInvalidProof", account=bob.address):  # alice's proof for bob
        m.claim(task, 1, bob.address, amount, result.tree.proof(alice.address), sender=bob)
    stranger = anvil_chain.accounts[9]
    with reverts("FedMarketNotMember", account=stranger.address):
        m.claim(task, 1, stranger.address, amount, result.tree.proof(alice.address), sender=stranger)


def test_claims_cannot_exceed_the_round_budget(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 3)
    m, task = env.market, env.task
    state = m.round_state(task)
    goto(chain, state.attempt_start)
    for i, account in enumerate(env.members):
        m.submit_update(task, 1, cid_of(f"u{i}"), 1, sender=account)
    goto(chain, state.train_end)
    budget = 3 * ETHER - 2 * env.params.committee_fee
    # a lying committee gives every member the whole budget
    tree = build_reward_tree((a.address, budget) for a in env.members)
    model = cid_of("model")
    committee = [env.by_address[a] for a in m.committee(task, 1, 0)]
    for account in committee:
        m.commit(task, 1, model, tree.root, SALT, sender=account)
    goto(chain, state.commit_end)
    for account in committee[:2]:
        m.reveal(task, 1, 0, model, tree.root, SALT, sender=account)
    assert m.finalized_round(task, 1).budget == budget
    first, second = env.members[0], env.members[1]
    m.claim(task, 1, first.address, budget, tree.proof(first.address), sender=first)
    with reverts("FedMarketBudgetExceeded", round=1, budget=budget, paidAfter=2 * budget):
        m.claim(task, 1, second.address, budget, tree.proof(second.address), sender=second)


def test_reentrant_claim_is_blocked(chain):
    deployer = chain.accounts[0]
    env = make_env(chain, 3)
    m, task = env.market, env.task
    attacker = Contract.deploy(chain, "ReentrantClaimer", m.address, sender=deployer)
    # the attacker could only join before the start: a fresh task with it as a member
    env2 = make_env(chain, 3, market=m)
    attacker.transact("join", env2.task, pubkey_of(7), sender=deployer, value=env2.params.stake)
    state = m.round_state(env2.task)
    goto(chain, state.attempt_start)
    for i, account in enumerate(env2.members):
        m.submit_update(env2.task, 1, cid_of(f"r{i}"), 1, sender=account)
    goto(chain, state.train_end)
    budget = 3 * ETHER - 2 * env2.params.committee_fee
    share = budget // 4
    tree = build_reward_tree([(attacker.address, share)] + [(a.address, share) for a in env2.members])
    model = cid_of("model")
    committee = [a for a in m.committee(env2.task, 1, 0)]
    signers = [env2.by_address[a] for a in committee if a in env2.by_address]
    for account in signers:
        m.commit(env2.task, 1, model, tree.root, SALT, sender=account)
    goto(chain, state.commit_end)
    for account in signers[:2]:
        m.reveal(env2.task, 1, 0, model, tree.root, SALT, sender=account)
    before = balance(chain, attacker.address)
    attacker.transact("attack", env2.task, 1, share, tree.proof(attacker.address), sender=deployer)
    assert balance(chain, attacker.address) == before + share  # paid exactly once
    assert attacker.call("received") == 1
    assert attacker.call("reentered") is False
    assert attacker.call("lastError")[:4] == keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert m.round_paid(env2.task, 1) == share
    assert task == 1


def test_withdraw_pays_stake_plus_fees_after_the_last_window(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 3)
    m, task = env.market, env.task
    results = [play_round(env, reveal_all=False) for _ in range(3)]
    # expected balances: quorum seats earn the fee, the third seat committed and never revealed
    # (the committee is drawn from on-chain randomness, so the same member may sit out more
    # than one round: what it can lose is capped by what it has left)
    expected = {a.address: env.params.stake for a in env.members}
    slashed = 0
    for result in results:
        for account in result.committee[:2]:
            expected[account.address] += env.params.committee_fee
        seat = result.committee[2].address
        cut = min(expected[seat], env.params.stake // 2)
        expected[seat] -= cut
        slashed += cut
    with reverts("FedMarketTaskNotEnded", task=task):  # the last reveal window is still open
        m.withdraw_stake(task, sender=env.members[0])
    goto(chain, m.round_state(task).attempt_start)
    for account in env.members:
        before = balance(chain, account.address)
        receipt = m.withdraw_stake(task, sender=account)
        assert balance(chain, account.address) - before + gas_cost(receipt) == expected[account.address]
    total_withdrawn = sum(
        e["args"]["amount"] for e in m.contract.events("StakeWithdrawn", task=task)
    )
    slashes = sum(e["args"]["amount"] for e in m.contract.events("Slashed", task=task))
    assert slashes == slashed
    assert total_withdrawn == 3 * env.params.stake + 6 * env.params.committee_fee - slashes
