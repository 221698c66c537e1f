"""The typed contract client on both backends: deploy, call, transact, events, reverts."""

from __future__ import annotations

import pytest

from ledger.chain import (
    AnvilChain,
    ChainBackend,
    Contract,
    ContractCustomError,
    ContractUsageError,
    PanicError,
    RevertWithReason,
    RpcError,
    TransactionReverted,
    custom_error,
)

LIMIT = 100
TOO_LARGE = "RevertProbeTooLarge"


@pytest.fixture
def probe(chain: ChainBackend) -> Contract:
    return Contract.deploy(chain, "RevertProbe", LIMIT, sender=chain.accounts[0])


def test_deploy_call_transact_roundtrip(chain: ChainBackend, probe: Contract) -> None:
    alice = chain.accounts[0]
    receipt = probe.transact("setValue", 42, sender=alice)
    assert receipt["status"] == 1
    assert probe.call("value") == 42
    assert probe.call("limit") == LIMIT
    # Same deployer, same nonce on both backends: the same address.
    assert probe.address == "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    again = Contract.at(chain, "RevertProbe", probe.address.lower())
    assert again.address == probe.address and again.call("value") == 42


def test_custom_error_at_estimation_carries_args(chain: ChainBackend, probe: Contract) -> None:
    alice = chain.accounts[0]
    nonce_before = chain.w3.eth.get_transaction_count(alice.address)
    with pytest.raises(custom_error(TOO_LARGE)) as info:
        probe.transact("setValue", LIMIT + 1, sender=alice)
    err = info.value
    assert err.error_name == TOO_LARGE
    assert err.error_args == {"x": LIMIT + 1, "who": alice.address}
    assert (err.x, err.who) == (LIMIT + 1, alice.address)
    assert err.tx_hash is None  # nothing was mined
    assert str(err) == f"{TOO_LARGE}(x=101, who={alice.address})"
    # The failed estimate consumed no nonce: the next transaction goes through.
    assert chain.w3.eth.get_transaction_count(alice.address) == nonce_before
    probe.transact("setValue", 5, sender=alice)
    assert chain.w3.eth.get_transaction_count(alice.address) == nonce_before + 1


def test_custom_error_mined_with_status_zero(chain: ChainBackend, probe: Contract) -> None:
    alice = chain.accounts[1]
    block_before = chain.block_number()
    # An explicit gas limit skips estimation, so the transaction is mined and fails.
    with pytest.raises(custom_error(TOO_LARGE)) as info:
        probe.transact("setThenMaybeFail", 7, True, sender=alice, gas=100_000)
    assert info.value.error_args == {"x": 7, "who": alice.address}
    assert info.value.tx_hash is not None
    receipt = chain.w3.eth.get_transaction_receipt(info.value.tx_hash)
    assert receipt["status"] == 0 and receipt["blockNumber"] == block_before + 1
    assert probe.call("value") == 0  # the write before the revert was undone


def test_custom_error_in_call(chain: ChainBackend, probe: Contract) -> None:
    bob = chain.accounts[2]
    with pytest.raises(custom_error(TOO_LARGE)) as info:
        probe.call("failWithValue", 2**256 - 1, sender=bob)
    assert info.value.error_args == {"x": 2**256 - 1, "who": bob.address}


def test_custom_error_with_many_types_and_none(chain: ChainBackend, probe: Contract) -> None:
    digest = bytes(range(32))
    with pytest.raises(custom_error("RevertProbeMixed")) as info:
        probe.call("failWithMany", 2**64 - 1, digest, True, "héllo")
    assert info.value.error_args == {
        "id": 2**64 - 1,
        "digest": digest,
        "flag": True,
        "note": "héllo",
    }
    with pytest.raises(custom_error("RevertProbeEmpty")) as info:
        probe.transact("failEmpty", sender=chain.accounts[0])
    assert info.value.error_args == {} and str(info.value) == "RevertProbeEmpty()"


def test_error_string_is_revert_with_reason(chain: ChainBackend, probe: Contract) -> None:
    with pytest.raises(RevertWithReason) as info:
        probe.transact("requireTrue", False, sender=chain.accounts[0])
    assert info.value.reason == "RevertProbe: not ok"
    with pytest.raises(RevertWithReason) as info:
        probe.transact("requireTrue", False, sender=chain.accounts[0], gas=60_000)
    assert info.value.reason == "RevertProbe: not ok" and info.value.tx_hash is not None


@pytest.mark.parametrize(
    ("fn", "args", "code"), [("assertTrue", (False,), 0x01), ("divide", (1, 0), 0x12)]
)
def test_panic_codes(chain: ChainBackend, probe: Contract, fn: str, args: tuple, code: int) -> None:
    with pytest.raises(PanicError) as info:
        probe.call(fn, *args)
    assert info.value.code == code
    with pytest.raises(PanicError) as info:
        probe.transact(fn, *args, sender=chain.accounts[0], gas=60_000)
    assert info.value.code == code and info.value.tx_hash is not None


def test_bare_revert_and_out_of_gas_are_plain(chain: ChainBackend, probe: Contract) -> None:
    with pytest.raises(TransactionReverted) as info:
        probe.transact("failBare", sender=chain.accounts[0])
    assert type(info.value) is TransactionReverted and info.value.data == b""
    with pytest.raises(TransactionReverted, match="out of gas") as info:
        probe.transact("setValue", 5, sender=chain.accounts[0], gas=22_000)
    assert type(info.value) is TransactionReverted and info.value.tx_hash is not None


def test_payable_deposit_and_events(chain: ChainBackend, probe: Contract) -> None:
    alice, bob = chain.accounts[0], chain.accounts[1]
    r1 = probe.transact("deposit", sender=bob, value=60)
    probe.transact("setValue", 3, sender=alice)
    probe.transact("setValue", 4, sender=bob)
    assert chain.w3.eth.get_balance(probe.address) == 60
    with pytest.raises(custom_error(TOO_LARGE)) as info:
        probe.transact("deposit", sender=bob, value=LIMIT + 1)
    assert info.value.error_args == {"x": LIMIT + 1, "who": bob.address}

    [deposit] = probe.events("Deposited")
    assert deposit["args"] == {"from": bob.address, "amount": 60}
    assert deposit["tx_hash"] == "0x" + bytes(r1["transactionHash"]).hex()
    assert deposit["block_number"] == r1["blockNumber"] and deposit["address"] == probe.address
    sets = probe.events("ValueSet")
    assert [(e["args"]["setter"], e["args"]["oldValue"], e["args"]["newValue"]) for e in sets] == [
        (alice.address, 0, 3),
        (bob.address, 3, 4),
    ]
    assert [e["block_number"] for e in sets] == sorted(e["block_number"] for e in sets)
    assert [e["args"]["newValue"] for e in probe.events("ValueSet", setter=bob.address)] == [4]
    assert probe.events("ValueSet", from_block=sets[1]["block_number"] + 1) == []


def test_usage_errors_are_typed(chain: ChainBackend, probe: Contract) -> None:
    with pytest.raises(ContractUsageError):
        probe.call("noSuchFunction")
    with pytest.raises(ContractUsageError):
        probe.transact("setValue", "not a number", sender=chain.accounts[0])
    with pytest.raises(ContractUsageError):
        probe.events("ValueSet", nobody=1)
    with pytest.raises(ContractUsageError):
        Contract.at(chain, "RevertProbe", "0x1234")


def test_bulk_signed_transactions_in_order(chain: ChainBackend, probe: Contract) -> None:
    alice = chain.accounts[3]
    start = chain.nonces.take(alice.address)
    signed = [
        probe.build_signed("setValue", v, sender=alice, nonce=start + i, gas=80_000)
        for i, v in enumerate([11, 12, 13])
    ]
    hashes = [chain.w3.eth.send_raw_transaction(s.raw_transaction) for s in signed]
    receipts = [chain.w3.eth.wait_for_transaction_receipt(h) for h in hashes]
    assert [r["status"] for r in receipts] == [1, 1, 1]
    assert probe.call("value") == 13
    chain.nonces.forget(alice.address)
    probe.transact("setValue", 14, sender=alice)  # the tracker re-reads the node's count
    assert probe.call("value") == 14


def test_snapshot_revert_resets_nonces(chain: ChainBackend, probe: Contract) -> None:
    alice = chain.accounts[0]
    snapshot = chain.snapshot()
    probe.transact("setValue", 9, sender=alice)
    probe.transact("setValue", 10, sender=alice)
    chain.revert(snapshot)
    assert probe.call("value") == 0
    probe.transact("setValue", 11, sender=alice)  # would fail with a stale nonce
    assert probe.call("value") == 11


def test_same_gas_on_anvil_and_pyevm(anvil_chain: ChainBackend, pyevm_chain: ChainBackend) -> None:
    used = {}
    for label, chain in (("anvil", anvil_chain), ("pyevm", pyevm_chain)):
        alice = chain.accounts[0]
        probe = Contract.deploy(chain, "RevertProbe", LIMIT, sender=alice)
        deploy = chain.w3.eth.get_transaction_receipt(
            chain.w3.eth.get_block("latest")["transactions"][0]
        )["gasUsed"]
        first = probe.transact("setValue", 7, sender=alice)["gasUsed"]
        second = probe.transact("setValue", 8, sender=alice)["gasUsed"]
        pay = probe.transact("deposit", sender=alice, value=1)["gasUsed"]
        used[label] = (deploy, first, second, pay)
    assert used["anvil"] == used["pyevm"]
    assert used["anvil"] == (409539, 47448, 30348, 24788)


def test_custom_error_classes_are_shared_and_cached() -> None:
    cls = custom_error(TOO_LARGE)
    assert cls is custom_error("RevertProbeTooLarge(uint256,address)")
    assert issubclass(cls, ContractCustomError) and issubclass(cls, TransactionReverted)
    assert cls.__name__ == TOO_LARGE and cls.selector.hex() == "ed3d48ed"


def test_a_prepared_read_equals_the_call_and_raises_what_the_call_raises(
        chain: ChainBackend, probe: Contract) -> None:
    alice = chain.accounts[0]
    value = probe.prepare("value")
    assert value() == (0,)
    probe.transact("setValue", 42, sender=alice)
    assert value() == (probe.call("value"),) == (42,)  # each call reads the latest block
    divide = probe.prepare("divide", 7, 2)
    assert divide() == (3,)
    with pytest.raises(custom_error(TOO_LARGE)) as info:
        probe.prepare("failWithValue", 2**256 - 1)()  # a revert takes the full call's path
    assert info.value.error_args["x"] == 2**256 - 1
    with pytest.raises(PanicError):
        probe.prepare("divide", 1, 0)()
    with pytest.raises(ContractUsageError):
        probe.prepare("value", 1)


def test_a_prepared_read_of_a_stopped_chain_is_an_rpc_error() -> None:
    chain = AnvilChain(accounts=1)
    probe = Contract.deploy(chain, "RevertProbe", LIMIT, sender=chain.accounts[0])
    read = probe.prepare("value")
    assert read() == (0,)
    chain.close()
    with pytest.raises(RpcError, match=chain.rpc_url):
        read()

