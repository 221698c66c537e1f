"""``nodeState``: the one read a node decides from agrees with the separate views it replaces,
and ``NodeState.round_settled`` with the contract's ``roundSettled`` in every phase."""

from __future__ import annotations

from eth_utils import to_checksum_address

from ledger.market_types import LineageEntry, Phase
from tests.contracts.market_scenario import (
    default_params,
    goto,
    make_env,
    play_round,
    reverts,
    settle_window,
)


def _agrees(env, account) -> None:
    m, task = env.market, env.task
    read = m.node_state(task, account.address)
    assert read.state == m.round_state(task)
    assert read.member == m.member(task, account.address)
    assert read.trains == m.in_cohort(task, account.address)
    assert read.timestamp == env.chain.timestamp()
    for round_ in range(1, read.state.round):
        assert read.round_settled(round_) == m.round_settled(task, round_), (read.state, round_)


def test_node_state_agrees_with_the_views_through_a_task(chain):
    env = make_env(chain, 4, default_params(rounds=2))
    member, stranger = env.members[0], env.requester
    _agrees(env, member)
    _agrees(env, stranger)
    assert not env.market.node_state(env.task, stranger.address).member.is_member
    play_round(env)
    assert env.market.round_state(env.task).phase == Phase.PENDING  # round 1's window is open
    _agrees(env, member)
    assert not env.market.node_state(env.task, member.address).round_settled(1)
    settle_window(env)
    _agrees(env, member)
    assert env.market.node_state(env.task, member.address).round_settled(1)
    play_round(env)
    assert env.market.round_state(env.task).phase == Phase.FINISHED
    _agrees(env, member)
    assert not env.market.node_state(env.task, member.address).round_settled(2)
    goto(env.chain, env.market.round_state(env.task).attempt_start)
    _agrees(env, member)
    assert env.market.node_state(env.task, member.address).round_settled(2)


def test_prepared_reads_return_what_the_views_return(anvil_chain):
    env = make_env(anvil_chain, 4, default_params(rounds=2))
    m, task = env.market, env.task
    play_round(env)
    assert m.finalized_round(task, 1) == LineageEntry.from_view(
        1, m.contract.call("finalizedRound", task, 1))
    assert m.claimed(task, 1, env.members[0].address) is False
    with reverts("FedMarketRoundNotFinalized", round=2):
        m.finalized_round(task, 2)  # a revert takes the full path and is decoded as there
    # Addresses come back checksummed, as web3 gives them (eth_abi alone gives lower case).
    members = m.contract.prepare("members", task)()[0]
    assert list(members) == m.members(task) == [to_checksum_address(a) for a in members]
