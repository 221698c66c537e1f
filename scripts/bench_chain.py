#!/usr/bin/env python3
"""Transaction throughput of ledger.chain on anvil and py-evm; prints ONE JSON line.

For each backend, N ``setValue`` transactions on a RevertProbe, three ways:

- ``web3_baseline``: web3's own path, locally signed: ``build_transaction`` (web3 fills
  nonce, gas and fees itself), sign, ``send_raw_transaction``, wait for the receipt;
- ``contract_transact``: ``Contract.transact`` (tracked nonce, estimate + margin, decoded
  reverts), one transaction at a time;
- ``bulk_signed``: ``Contract.build_signed`` with explicit nonces and gas, all sent, then
  all receipts awaited.

Ratios are against the baseline measured in the same run.

Usage: python scripts/bench_chain.py [--n 100]
"""

from __future__ import annotations

import argparse
import json
import time

from ledger.chain import AnvilChain, ChainBackend, Contract
from ledger.chain.pyevm import PyEvmChain
from ledger.chain.transactions import fee_fields


def _web3_baseline(chain: ChainBackend, probe: Contract, n: int) -> float:
    sender = chain.accounts[1]
    fn = chain.w3.eth.contract(address=probe.address, abi=probe.abi).functions.setValue
    start = time.perf_counter()
    for i in range(n):
        tx = fn(i).build_transaction(
            {"from": sender.address, "nonce": chain.w3.eth.get_transaction_count(sender.address)}
        )
        tx_hash = chain.w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        assert chain.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    return n / (time.perf_counter() - start)


def _contract_transact(chain: ChainBackend, probe: Contract, n: int) -> float:
    sender = chain.accounts[2]
    start = time.perf_counter()
    for i in range(n):
        probe.transact("setValue", i, sender=sender)
    return n / (time.perf_counter() - start)


def _bulk_signed(chain: ChainBackend, probe: Contract, n: int) -> float:
    sender = chain.accounts[3]
    start = time.perf_counter()
    first = chain.nonces.take(sender.address)
    fees = fee_fields(chain.w3)
    hashes = []
    for i in range(n):
        signed = probe.build_signed(
            "setValue", i, sender=sender, nonce=first + i, gas=80_000, fees=fees
        )
        hashes.append(chain.w3.eth.send_raw_transaction(signed.raw_transaction))
    for tx_hash in hashes:
        assert chain.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    chain.nonces.forget(sender.address)
    return n / (time.perf_counter() - start)


def _bench(chain: ChainBackend, n: int) -> dict[str, float]:
    probe = Contract.deploy(chain, "RevertProbe", 2**255, sender=chain.accounts[0])
    probe.transact("setValue", 1, sender=chain.accounts[0])  # warm up the storage slot
    base = _web3_baseline(chain, probe, n)
    single = _contract_transact(chain, probe, n)
    bulk = _bulk_signed(chain, probe, n)
    return {
        "web3_baseline_tx_per_s": round(base, 1),
        "contract_transact_tx_per_s": round(single, 1),
        "bulk_signed_tx_per_s": round(bulk, 1),
        "contract_transact_vs_baseline": round(single / base, 2),
        "bulk_signed_vs_baseline": round(bulk / base, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="transactions per mode")
    args = parser.parse_args()
    result: dict[str, object] = {"bench": "chain", "n": args.n}
    with AnvilChain(accounts=4) as anvil:
        result["anvil"] = _bench(anvil, args.n)
    with PyEvmChain(accounts=4) as pyevm:
        result["pyevm"] = _bench(pyevm, args.n)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
