#!/usr/bin/env python3
"""Client CPU per chain operation: fedledger's fast path against web3's, in one run.

A node on a machine shared with eight others spends its CPU, not the chain's, on each read
and transaction. On anvil, a market with 4 members and one played round (and a RevertProbe
for a repeatable transaction), each operation is run with ``Contract(fast=True)`` (``ledger.chain.abi_codec`` + ``ledger.chain.raw_rpc``) and
with ``Contract(fast=False)`` (every call through web3's contract layer); the same answers
both ways (``tests/ledger/test_abi_codec.py``). The transaction's baseline is web3's own
sending path (it fills gas, fees and nonce itself) against ``Contract.transact``. Reports milliseconds of this process's CPU
(``time.process_time``) per operation, median of 5 batches, and web3/fast ratios::

    .venv/bin/python scripts/bench_client_cpu.py --out bench/results/client_cpu.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_account.signers.local import LocalAccount

from ledger.chain import AnvilChain, Contract
from ledger.market import FedMarket
from tests.contracts.market_scenario import default_params, make_env, play_round


def _cpu_ms(operation: Callable[[], object], n: int) -> float:
    operation()  # warm
    batches = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(n):
            operation()
        batches.append((time.process_time() - start) / n * 1000)
    return round(statistics.median(batches), 3)


def _web3_transaction(probe: Contract, sender: LocalAccount) -> Callable[[], object]:
    """web3's own way: ``build_transaction`` (web3 estimates gas and reads fees), sign,
    ``send_raw_transaction``, ``wait_for_transaction_receipt``."""
    w3 = probe.w3
    function = w3.eth.contract(address=probe.address, abi=probe.abi).functions.setValue

    def send() -> object:
        nonce = w3.eth.get_transaction_count(sender.address, "pending")
        tx = function(7).build_transaction({"from": sender.address, "nonce": nonce})
        tx_hash = w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        return w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.05)
    return send


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=40, help="operations per batch")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON line here")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    with AnvilChain() as chain:
        env = make_env(chain, 4, default_params())
        play_round(env)
        task, member = env.task, env.members[0]
        probe = Contract.deploy(chain, "RevertProbe", 100, sender=member)
        for way, fast in (("fast", True), ("web3", False)):
            contract = env.market.contract
            market = FedMarket(Contract(contract.w3, contract.artifact, contract.address,
                                        fast=fast))
            writable = Contract(probe.w3, probe.artifact, probe.address, fast=fast)
            results[way] = {
                "node_state_read": _cpu_ms(
                    lambda m=market: m.node_state(task, member.address), args.n),
                "member_view": _cpu_ms(lambda m=market: m.member(task, member.address), args.n),
                "update_events_4_logs": _cpu_ms(lambda m=market: m.updates(task, 1), args.n),
                "commit_calldata": _cpu_ms(
                    lambda m=market: m.contract.encode("commit", task, 2, b"\x01" * 32), args.n),
                "transaction_estimated_sent_mined": _cpu_ms(
                    (lambda c=writable: c.transact("setValue", 7, sender=member)) if fast
                    else _web3_transaction(probe, member), args.n),
            }
    ratios = {op: round(results["web3"][op] / results["fast"][op], 2) for op in results["fast"]}
    line = json.dumps({"bench": "client_cpu", "unit": "ms of client CPU per operation",
                       "results": results, "web3_over_fast": ratios})
    print(line)
    if args.out is not None:
        args.out.write_text(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
