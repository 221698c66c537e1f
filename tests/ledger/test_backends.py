"""Development powers behave the same on anvil and py-evm (time, mining, snapshots)."""

from __future__ import annotations

import pytest

from ledger.chain import AnvilChain, ChainBackend, ChainError, Contract, custom_error, dev_accounts


def test_increase_time_is_exact(chain: ChainBackend) -> None:
    start, height = chain.timestamp(), chain.block_number()
    chain.increase_time(3600)
    assert chain.timestamp() == start + 3600
    assert chain.block_number() == height + 1
    chain.increase_time(1)
    assert chain.timestamp() == start + 3601
    with pytest.raises(ValueError):
        chain.increase_time(0)


def test_time_gates_a_contract(chain: ChainBackend) -> None:
    alice = chain.accounts[0]
    probe = Contract.deploy(chain, "RevertProbe", 100, sender=alice)
    deadline = chain.timestamp() + 1000
    with pytest.raises(custom_error("RevertProbeTooLarge")) as info:
        probe.transact("failBefore", deadline, sender=alice)
    assert info.value.error_args == {"x": deadline, "who": alice.address}
    chain.increase_time(1000)
    probe.transact("failBefore", deadline, sender=alice)
    assert probe.call("value") == deadline


def test_mine(chain: ChainBackend) -> None:
    height = chain.block_number()
    chain.mine()
    chain.mine(4)
    assert chain.block_number() == height + 5


def test_snapshot_revert_restores_state_and_is_used_up(chain: ChainBackend) -> None:
    alice = chain.accounts[0]
    probe = Contract.deploy(chain, "RevertProbe", 100, sender=alice)
    probe.transact("setValue", 1, sender=alice)
    height = chain.block_number()
    snap = chain.snapshot()
    probe.transact("setValue", 2, sender=alice)
    chain.mine(3)
    chain.revert(snap)
    assert probe.call("value") == 1 and chain.block_number() == height
    inner = chain.snapshot()
    probe.transact("setValue", 3, sender=alice)
    chain.revert(inner)
    assert probe.call("value") == 1


def test_unknown_snapshot_is_a_chain_error(chain: ChainBackend) -> None:
    bogus = "0x7777" if isinstance(chain, AnvilChain) else 7777
    with pytest.raises(ChainError, match="snapshot"):
        chain.revert(bogus)


def test_call_at_a_past_block(chain: ChainBackend) -> None:
    alice = chain.accounts[0]
    probe = Contract.deploy(chain, "RevertProbe", 100, sender=alice)
    probe.transact("setValue", 10, sender=alice)
    before = chain.block_number()
    probe.transact("setValue", 20, sender=alice)
    assert probe.call("value", block=before) == 10
    assert probe.call("value") == 20


def test_same_dev_accounts_everywhere(chain: ChainBackend) -> None:
    assert [a.address for a in chain.accounts] == [a.address for a in dev_accounts(10)]
    assert chain.accounts[1].address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert chain.w3.eth.get_balance(chain.accounts[1].address) == 10_000 * 10**18
