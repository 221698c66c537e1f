"""FedMarket tasks: creation and validation, cancel and sweep, joining, ERC-20 bounties, underfilled tasks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ledger.chain import Contract
from ledger.market import FedMarket
from ledger.market_types import Phase, TaskParams
from tests.contracts.market_scenario import (
    ETHER,
    balance,
    default_params,
    gas_cost,
    goto,
    make_env,
    play_round,
    pubkey_of,
    reverts,
)


def test_create_task_escrows_bounty_and_records_params(chain):
    requester = chain.accounts[0]
    market = FedMarket.deploy(chain, sender=requester)
    params = default_params()
    task = market.create_task(params, sender=requester)
    assert task == 1 and market.task_count() == 1
    info = market.task_info(task)
    assert info.params == params
    assert info.requester == requester.address
    assert info.start_time == chain.timestamp() + params.join_duration
    assert balance(chain, market.address) == params.bounty
    assert market.funds(task) == (0, 0, 0, 0)
    assert market.phase(task) == Phase.PENDING
    assert market.current_round(task) == 1
    # Every term is in the event: the task rebuilds from logs alone.
    [event] = market.contract.events("TaskCreated", task=task)
    assert TaskParams.from_abi(tuple(event["args"]["params"].values())) == params
    assert event["args"]["startTime"] == info.start_time


@pytest.mark.parametrize(
    ("overrides", "error", "args"),
    [
        ({"rounds": 0}, "FedMarketBadRounds", {"rounds": 0}),
        # 65535 rounds would overflow the 16-bit round counter at rounds + 1.
        ({"rounds": 65_535, "bounty": 65_535}, "FedMarketBadRounds", {"rounds": 65_535}),
        ({"bounty": 0}, "FedMarketZeroBounty", {}),
        ({"committee_size": 0, "quorum": 0}, "FedMarketBadCommitteeSize", {"committeeSize": 0}),
        ({"committee_size": 32, "quorum": 17, "dispute_size": 63}, "FedMarketBadCommitteeSize",
         {"committeeSize": 32, "max": 31}),
        ({"quorum": 4}, "FedMarketBadQuorum", {"quorum": 4, "committeeSize": 3}),
        ({"quorum": 1}, "FedMarketBadQuorum", {"quorum": 1, "committeeSize": 3}),
        ({"dispute_size": 3}, "FedMarketBadDisputeSize", {"disputeSize": 3, "committeeSize": 3}),
        ({"dispute_size": 64}, "FedMarketBadDisputeSize", {"disputeSize": 64, "max": 63}),
        ({"train_duration": 0}, "FedMarketZeroDuration", {}),
        ({"join_duration": 0}, "FedMarketZeroDuration", {}),
        ({"challenge_duration": 0}, "FedMarketZeroDuration", {}),
        ({"claim_duration": 0}, "FedMarketZeroDuration", {}),
        # With 1 s of commit phase the seed-reveal window (its first half) would be empty.
        ({"commit_duration": 1}, "FedMarketCommitTooShort", {"commitDuration": 1}),
        ({"reveal_duration": 2**24}, "FedMarketDurationTooLong", {"duration": 2**24, "max": 2**24 - 1}),
        ({"rounds": 60_000, "bounty": 60_000, "train_duration": 2**24 - 1, "max_retries": 255},
         "FedMarketHorizonTooFar", {}),
        ({"min_submissions": 0}, "FedMarketZeroMinSubmissions", {}),
        ({"max_participants": 2}, "FedMarketParticipantCapTooSmall", {"maxParticipants": 2, "needed": 3}),
        ({"min_submissions": 11}, "FedMarketParticipantCapTooSmall", {"maxParticipants": 10, "needed": 11}),
        ({"max_participants": 2**24}, "FedMarketParticipantCapTooLarge", {"max": 2**24 - 1}),
        ({"min_stake": 0}, "FedMarketZeroStake", {}),
        ({"challenge_bond": 0}, "FedMarketZeroBond", {}),
        ({"slash_bps": 0}, "FedMarketBadSlash", {"slashBps": 0}),
        ({"slash_bps": 10_001}, "FedMarketBadSlash", {"slashBps": 10_001}),
        ({"committee_fee": ETHER + 1}, "FedMarketFeesExceedShare",
         {"fees": 3 * ETHER + 3, "share": 3 * ETHER}),
        ({"challenge_bond": 2**96 // 3}, "FedMarketAmountTooLarge", {}),
    ],
)
def test_create_task_rejects_nonsense(anvil_chain, overrides, error, args):
    market = FedMarket.deploy(anvil_chain, sender=anvil_chain.accounts[0])
    with reverts(error, **args):
        market.create_task(default_params(**overrides), sender=anvil_chain.accounts[0])


def test_create_task_rejects_zero_digest_and_wrong_value(anvil_chain):
    requester = anvil_chain.accounts[0]
    market = FedMarket.deploy(anvil_chain, sender=requester)
    params = default_params()
    with reverts("FedMarketZeroDigest"):
        market.contract.transact("createTask", (bytes(32),) + params.to_abi()[1:], sender=requester,
                                 value=params.bounty)
    with reverts("FedMarketWrongValue", expected=params.bounty, actual=1):
        market.contract.transact("createTask", params.to_abi(), sender=requester, value=1)


def test_unknown_task_reverts(anvil_chain):
    market = FedMarket.deploy(anvil_chain, sender=anvil_chain.accounts[0])
    with reverts("FedMarketUnknownTask", task=7):
        market.phase(7)
    with reverts("FedMarketUnknownTask", task=7):
        market.contract.transact("submitUpdate", 7, 1, b"\x01" * 32, 0x55, 1, sender=anvil_chain.accounts[0])


def test_cancel_refunds_bounty_and_frees_stakes(chain):
    env = make_env(chain, 2)
    m, task, requester = env.market, env.task, env.requester
    with reverts("FedMarketNotRequester", caller=env.members[0].address):
        m.cancel_task(task, sender=env.members[0])
    before = balance(chain, requester.address)
    receipt = m.cancel_task(task, sender=requester)
    assert balance(chain, requester.address) == before + env.params.bounty - gas_cost(receipt)
    assert m.phase(task) == Phase.CANCELLED and m.ended(task)
    assert m.contract.events("TaskCancelled", task=task)[0]["args"]["refund"] == env.params.bounty
    with reverts("FedMarketWrongPhase", phase=Phase.CANCELLED):
        m.join(task, pubkey_of(9), sender=chain.accounts[5])
    with reverts("FedMarketNothingToPay"):
        m.sweep(task, sender=requester)
    member = env.members[0]
    before = balance(chain, member.address)
    receipt = m.withdraw_stake(task, sender=member)
    assert balance(chain, member.address) == before + env.params.min_stake - gas_cost(receipt)
    assert balance(chain, m.address) == env.params.min_stake  # the other member's stake


def test_cancel_after_start_is_refused(anvil_chain):
    env = make_env(anvil_chain, 3)
    goto(anvil_chain, env.market.task_info(env.task).start_time)
    with reverts("FedMarketWrongPhase", phase=Phase.TRAIN):
        env.market.cancel_task(env.task, sender=env.requester)


def test_join_rules(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 0, default_params(max_participants=3))
    m, task = env.market, env.task
    a, b, c, d = chain.accounts[1:5]
    assert m.committee(task) == [] and m.seats_of(task, a.address) == 0  # no draw yet
    with reverts("FedMarketBadPubkey", length=31):
        m.join(task, b"\x02" * 31, sender=a)
    with reverts("FedMarketBadPubkey", length=33):
        m.join(task, b"\x04" + b"\x01" * 32, sender=a)
    with reverts("FedMarketBadPubkey", length=34):
        m.join(task, b"\x02" * 34, sender=a)
    with reverts("FedMarketWrongValue", expected=ETHER, actual=1):
        m.contract.transact("join", task, b"\x01" * 32, ETHER, sender=a, value=1)
    # Free (or cheap) stake is refused: Sybils must pay the minimum each.
    with reverts("FedMarketStakeTooLow", stake=ETHER - 1, minStake=ETHER):
        m.join(task, b"\x07" * 32, sender=a, stake=ETHER - 1)
    m.join(task, b"\x07" * 32, sender=a)
    m.join(task, b"\x03" + b"\x09" * 32, sender=b, stake=3 * ETHER)  # more stake, more seats
    with reverts("FedMarketAlreadyMember", account=a.address):
        m.join(task, b"\x07" * 32, sender=a)
    m.join(task, pubkey_of(2), sender=c)
    with reverts("FedMarketTaskFull", maxParticipants=3):
        m.join(task, pubkey_of(3), sender=d)
    assert m.pubkey(task, a.address) == b"\x07" * 32
    assert m.pubkey(task, b.address) == b"\x03" + b"\x09" * 32
    assert m.pubkey(task, d.address) == b""
    assert m.members(task) == [a.address, b.address, c.address]
    info = m.member(task, b.address)
    assert (info.is_member, info.index, info.balance) == (True, 1, 3 * ETHER)
    assert (info.stake, info.stake_start) == (3 * ETHER, ETHER)  # seat interval [1, 4) ETH
    assert m.member(task, c.address).stake_start == 4 * ETHER
    assert m.last_draw(task)[4] == 5 * ETHER  # total stake
    assert not m.member(task, d.address).is_member
    [joined] = m.contract.events("Joined", task=task, participant=b.address)
    assert joined["args"]["pubkey"] == b"\x03" + b"\x09" * 32 and joined["args"]["index"] == 1
    assert (joined["args"]["stake"], joined["args"]["start"]) == (3 * ETHER, ETHER)
    goto(chain, m.task_info(task).start_time)
    with reverts("FedMarketWrongPhase", phase=Phase.TRAIN):
        m.join(task, pubkey_of(3), sender=d)


def test_underfilled_task_closes_at_start_and_refunds(anvil_chain):
    chain = anvil_chain
    env = make_env(chain, 2)  # committee of 3 needs 3 members
    m, task = env.market, env.task
    with reverts("FedMarketTaskNotEnded", task=task):
        m.sweep(task, sender=env.requester)
    with reverts("FedMarketTaskNotEnded", task=task):
        m.withdraw_stake(task, sender=env.members[0])
    start = m.task_info(task).start_time
    goto(chain, start)
    assert m.phase(task) == Phase.CLOSED
    m.sweep(task, sender=env.members[1])  # permissionless, pays the requester
    [event] = m.contract.events("Swept", task=task)
    assert event["args"]["amount"] == env.params.bounty
    assert event["args"]["requester"] == env.requester.address
    [closed] = m.contract.events("TaskClosed", task=task)  # a closed task says so in the logs
    assert (closed["args"]["round"], closed["args"]["closedAt"]) == (1, start)
    for member in env.members:
        m.withdraw_stake(task, sender=member)
    with reverts("FedMarketNothingToPay", account=env.members[0].address):
        m.withdraw_stake(task, sender=env.members[0])
    with reverts("FedMarketNotMember"):
        m.withdraw_stake(task, sender=chain.accounts[7])
    assert balance(chain, m.address) == 0


def test_erc20_bounty_and_stake(chain):
    requester = chain.accounts[0]
    token = Contract.deploy(chain, "TestToken", sender=requester)
    for account in chain.accounts[:4]:
        token.transact("mint", account.address, 100 * ETHER, sender=requester)
    market = FedMarket.deploy(chain, sender=requester)
    params: TaskParams = default_params(token=token.address, rounds=1)
    env = make_env(chain, 3, params, market=market)
    assert token.call("balanceOf", market.address) == params.bounty + 3 * params.min_stake
    with reverts("FedMarketWrongValue", expected=0, actual=1):
        market.contract.transact("join", env.task, pubkey_of(5), ETHER, sender=chain.accounts[4],
                                 value=1)
    result = play_round(env)
    budget = market.finalized_round(env.task, 1).budget
    assert budget == params.bounty - 3 * params.committee_fee  # one fee per seat reserved
    goto(chain, market.round_state(env.task).attempt_start)  # past the challenge window
    first = env.members[0]
    amount = result.tree.amount_of(first.address)
    market.claim(env.task, 1, first.address, amount, result.tree.proof(first.address), sender=chain.accounts[5])
    assert token.call("balanceOf", first.address) == 100 * ETHER - params.min_stake + amount
    with reverts("FedMarketNothingToPay", account=requester.address):
        market.sweep(env.task, sender=requester)  # the one round took the whole bounty
    paid_out = amount
    for member in env.members:
        market.withdraw_stake(env.task, sender=member)
        paid_out += market.contract.events("StakeWithdrawn", participant=member.address)[0]["args"]["amount"]
    held = token.call("balanceOf", market.address)
    assert held == params.bounty + 3 * params.min_stake - paid_out
    # After the claim deadline the unclaimed rewards (and fees nobody settled) go back.
    goto(chain, market.end_time(env.task)[1])
    market.sweep(env.task, sender=requester)
    assert token.call("balanceOf", market.address) == 0


def test_erc20_task_rejects_eth(anvil_chain):
    requester = anvil_chain.accounts[0]
    token = Contract.deploy(anvil_chain, "TestToken", sender=requester)
    token.transact("mint", requester.address, 100 * ETHER, sender=requester)
    market = FedMarket.deploy(anvil_chain, sender=requester)
    params = default_params(token=token.address)
    token.transact("approve", market.address, params.bounty, sender=requester)
    with reverts("FedMarketWrongValue", expected=0, actual=5):
        market.contract.transact("createTask", replace(params).to_abi(), sender=requester, value=5)
