"""PyEvmChain specifics: in-process chain, node-style revert answers."""

from __future__ import annotations

from ledger.chain import Contract, custom_error
from ledger.chain.pyevm import PyEvmChain


def test_fresh_chain_parameters() -> None:
    with PyEvmChain(accounts=3, balance_eth=5) as chain:
        assert chain.chain_id == 131277322940537
        assert len(chain.accounts) == 3
        assert chain.w3.eth.get_balance(chain.accounts[2].address) == 5 * 10**18
        assert chain.block_number() == 0
        assert type(chain.tester.backend.chain.get_vm()).fork == "prague"  # as anvil's


def test_revert_answer_carries_raw_data(pyevm_chain: PyEvmChain) -> None:
    alice = pyevm_chain.accounts[0]
    probe = Contract.deploy(pyevm_chain, "RevertProbe", 1, sender=alice)
    call = {"from": alice.address, "to": probe.address, "data": probe.encode("failWithValue", 9)}
    for method in ("eth_call", "eth_estimateGas"):
        answer = pyevm_chain.w3.provider.make_request(method, [call, "latest"])
        error = answer["error"]
        assert error["code"] == 3 and error["message"] == "execution reverted"
        data = bytes.fromhex(error["data"][2:])
        assert data[:4] == custom_error("RevertProbeTooLarge").selector
        assert int.from_bytes(data[4:36], "big") == 9


def test_successful_call_and_estimate_pass_through(pyevm_chain: PyEvmChain) -> None:
    alice = pyevm_chain.accounts[0]
    probe = Contract.deploy(pyevm_chain, "RevertProbe", 1, sender=alice)
    call = {"from": alice.address, "to": probe.address, "data": probe.encode("limit")}
    assert pyevm_chain.w3.eth.call(call) == (1).to_bytes(32, "big")
    assert pyevm_chain.w3.eth.estimate_gas(call) > 21_000
