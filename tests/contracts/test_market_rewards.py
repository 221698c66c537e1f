"""FedMarket rewards: Merkle claims, double claims, budgets, reentrancy, pull fees and withdrawal."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from ledger.chain import Contract
from ledger.merkle import build_reward_tree
from tests.contracts.market_scenario import (
    ETHER,
    balance,
    cid_of,
    commit_all,
    default_params,
    gas_cost,
    goto,
    lock_and_seat,
    make_env,
    play_round,
    pubkey_of,
    quorum_of,
    reverts,
    settle_window,
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
    # Nothing of a round is payable while its result can still be challenged.
    with reverts("FedMarketRoundNotSettled", round=1):
        m.claim(task, 1, alice.address, amount, proof, sender=alice)
    assert not m.round_settled(task, 1)
    settle_window(env)
    assert m.round_settled(task, 1)
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
    settle_window(env)
    alice, bob = env.members[0], env.members[1]
    amount = result.tree.amount_of(alice.address)
    with reverts("FedMarketInvalidProof", account=alice.address, amount=amount + 1):
        m.claim(task, 1, alice.address, amount + 1, result.tree.proof(alice.address), sender=alice)
    with reverts("FedMarketInvalidProof", account=bob.address):  # alice's proof for bob
        m.claim(task, 1, bob.address, amount, result.tree.proof(alice.address), sender=bob)
    stranger = anvil_chain.accounts[9]
    with reverts("FedMarketNotMember", account=stranger.address):
        m.claim(task, 1, stranger.address, amount, result.tree.proof(alice.address), sender=stranger)


def _lying_round(env, tree, model):
    """Everyone submits, the whole committee commits (model, tree.root), a quorum reveals."""
    m, task = env.market, env.task
    goto(env.chain, m.round_state(task).attempt_start)
    for i, account in enumerate(env.members):
        m.submit_update(task, 1, cid_of(f"u{i}"), 1, sender=account)
    holders = lock_and_seat(env)
    commit_all(env, holders, model, tree.root, SALT)
    goto(env.chain, m.round_state(task).commit_end)
    for account in quorum_of(env, holders):
        m.reveal(task, 1, 0, model, tree.root, SALT, sender=account)


def test_claims_cannot_exceed_the_round_budget(anvil_chain):
    env = make_env(anvil_chain, 3)
    m, task = env.market, env.task
    budget = 3 * ETHER - 3 * env.params.committee_fee
    # a lying committee gives every member the whole budget
    tree = build_reward_tree((a.address, budget) for a in env.members)
    _lying_round(env, tree, cid_of("model"))
    assert m.finalized_round(task, 1).budget == budget
    settle_window(env)
    first, second = env.members[0], env.members[1]
    m.claim(task, 1, first.address, budget, tree.proof(first.address), sender=first)
    with reverts("FedMarketBudgetExceeded", round=1, budget=budget, paidAfter=2 * budget):
        m.claim(task, 1, second.address, budget, tree.proof(second.address), sender=second)


@pytest.mark.parametrize("attack", ["attack", "attackBatch"])
def test_reentrant_claim_is_blocked(chain, attack):
    deployer = chain.accounts[0]
    env = make_env(chain, 3)
    m = env.market
    attacker = Contract.deploy(chain, "ReentrantClaimer", m.address, sender=deployer)
    # the attacker could only join before the start: a fresh task with it as a member (the
    # minimum stake, next to members staking 20 ETH: it holds no seat it could not vote)
    env2 = make_env(chain, 3, market=m, stake=20 * ETHER)
    attacker.transact("join", env2.task, pubkey_of(7), sender=deployer, value=env2.params.min_stake)
    budget = 3 * ETHER - 3 * env2.params.committee_fee
    share = budget // 4
    tree = build_reward_tree([(attacker.address, share)] + [(a.address, share) for a in env2.members])
    model = cid_of("model")
    state = m.round_state(env2.task)
    goto(chain, state.attempt_start)
    for i, account in enumerate(env2.members):
        m.submit_update(env2.task, 1, cid_of(f"r{i}"), 1, sender=account)
    goto(chain, state.train_end)
    m.lock_seed(env2.task, sender=deployer)
    holders = [env2.by_address[a] for a in dict.fromkeys(m.committee(env2.task)) if a in env2.by_address]
    goto(chain, state.attest_end)
    commit_all(env2, holders, model, tree.root, SALT)
    goto(chain, state.commit_end)
    for account in quorum_of(env2, holders):
        m.reveal(env2.task, 1, 0, model, tree.root, SALT, sender=account)
    settle_window(env2)
    before = balance(chain, attacker.address)
    attacker.transact(attack, env2.task, 1, share, tree.proof(attacker.address), sender=deployer)
    assert balance(chain, attacker.address) == before + share  # paid exactly once
    assert attacker.call("received") == 1
    assert attacker.call("reentered") is False
    assert attacker.call("lastError")[:4] == keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert m.round_paid(env2.task, 1) == share


def test_withdraw_pays_stake_plus_pulled_fees_after_the_last_window(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 3, default_params(slash_bps=2_500))  # three slashes leave it solvent
    m, task = env.market, env.task
    fee, stake = env.params.committee_fee, env.params.min_stake
    expected = {a.address: stake for a in env.members}
    for _ in range(3):
        result = play_round(env, reveal_all=False)
        revealers = quorum_of(env, result.committee)
        for account in result.committee:
            if account in revealers:  # one fee per seat of the final result
                expected[account.address] += fee * m.seats_of(task, account.address)
            else:  # committed and never revealed
                expected[account.address] -= stake // 4
    with reverts("FedMarketTaskNotEnded", task=task):  # the last challenge window is open
        m.withdraw_stake(task, sender=env.members[0])
    settle_window(env)
    for account in env.members:
        before = balance(chain, account.address)
        receipt = m.withdraw_stake(task, sender=account)
        assert balance(chain, account.address) - before + gas_cost(receipt) == expected[account.address]
    fees = sum(e["args"]["amount"] for e in m.contract.events("FeeEarned", task=task))
    slashes = sum(e["args"]["amount"] for e in m.contract.events("Slashed", task=task))
    withdrawn = sum(e["args"]["amount"] for e in m.contract.events("StakeWithdrawn", task=task))
    assert withdrawn == 3 * stake + fees - slashes
    assert m.funds(task)[3] == fees and m.funds(task)[0] == slashes


def _two_settled_rounds(chain):
    env = make_env(chain, 4, default_params(rounds=3))
    first = play_round(env)
    settle_window(env)
    second = play_round(env)
    settle_window(env)
    return env, first.tree, second.tree


def test_batch_claim_pays_several_rounds_once(chain):
    env, tree1, tree2 = _two_settled_rounds(chain)
    m, task = env.market, env.task
    alice, bob = env.members[0], env.members[1]
    a1, a2 = tree1.amount_of(alice.address), tree2.amount_of(alice.address)
    claims = [(1, a1, tree1.proof(alice.address)), (2, a2, tree2.proof(alice.address))]
    before = balance(chain, alice.address)
    receipt = m.claim_rounds(task, alice.address, claims, sender=bob)  # anyone may send it
    assert balance(chain, alice.address) == before + a1 + a2
    assert m.claimed(task, 1, alice.address) and m.claimed(task, 2, alice.address)
    assert (m.round_paid(task, 1), m.round_paid(task, 2)) == (a1, a2)
    events = m.events_in(receipt, "RewardClaimed")
    assert [(e["args"]["round"], e["args"]["amount"]) for e in events] == [(1, a1), (2, a2)]
    with reverts("FedMarketAlreadyClaimed", round=1, account=alice.address):
        m.claim(task, 1, alice.address, a1, tree1.proof(alice.address), sender=alice)
    with reverts("FedMarketAlreadyClaimed", round=2, account=alice.address):
        m.claim_rounds(task, alice.address, claims[1:], sender=alice)


def test_batch_claim_is_all_or_nothing(anvil_chain):
    env, tree1, tree2 = _two_settled_rounds(anvil_chain)
    m, task = env.market, env.task
    alice = env.members[0]
    good = (1, tree1.amount_of(alice.address), tree1.proof(alice.address))
    a2 = tree2.amount_of(alice.address)
    # the same round twice would pay it twice: its bit is set by the first entry
    with reverts("FedMarketAlreadyClaimed", round=1, account=alice.address):
        m.claim_rounds(task, alice.address, [good, good], sender=alice)
    # a forged amount in the second entry undoes the first
    with reverts("FedMarketInvalidProof", round=2, amount=a2 + 1):
        m.claim_rounds(task, alice.address, [good, (2, a2 + 1, tree2.proof(alice.address))],
                       sender=alice)
    assert not m.claimed(task, 1, alice.address) and m.round_paid(task, 1) == 0
    # a round still open to challenge cannot ride along with settled ones
    play_round(env)
    with reverts("FedMarketRoundNotSettled", round=3):
        m.claim_rounds(task, alice.address, [good, (3, 1, [])], sender=alice)
    with reverts("FedMarketClaimLengths", rounds=1, amounts=1, proofs=0):
        m._tx("claimRounds", task, alice.address, [1], [1], [], sender=alice)
    with reverts("FedMarketNothingToPay", account=alice.address):
        m.claim_rounds(task, alice.address, [], sender=alice)
    assert not m.claimed(task, 1, alice.address)


def test_batch_claim_saves_gas_over_single_claims(anvil_chain):
    env, tree1, tree2 = _two_settled_rounds(anvil_chain)
    m, task = env.market, env.task
    alice, bob = env.members[0], env.members[1]
    singles = [m.claim(task, r, alice.address, t.amount_of(alice.address), t.proof(alice.address),
                       sender=alice) for r, t in ((1, tree1), (2, tree2))]
    batch = m.claim_rounds(task, bob.address, [(r, t.amount_of(bob.address), t.proof(bob.address))
                                               for r, t in ((1, tree1), (2, tree2))], sender=bob)
    single_gas = sum(int(r["gasUsed"]) for r in singles)
    # one transaction's base cost and one payment less
    assert single_gas - int(batch["gasUsed"]) > 21_000
