"""One round with 10, 100 and 1,000 participants on anvil; ONE JSON line.

For each N, on a fresh anvil (prague): deploy FedMarket, post a one-round task (committee
k=5, quorum 3, ``max_participants = N``), fund N generated accounts with
``anvil_setBalance``, then play the round the way the protocol allows batching:

1. **join**: N ``join`` transactions signed locally (``Contract.build_signed``, nonce 0,
   fixed gas), all sent with ``eth_sendRawTransaction`` first, receipts collected after;
2. **submit**: each participant's update (a tiny MLP, 67-32-1, seeded noise as its delta;
   training is not what is measured here) is encoded, put in a ``LocalStore``, and
   ``submitUpdate`` is sent the same way (nonce 1);
3. **committee**: one member computes the round exactly as a node does
   (``node.runtime.committee.compute_round`` over the on-chain update list, fetching each update
   from the store): timed, then run again under ``tracemalloc`` and with the process's peak
   RSS reset (``/proc/self/clear_refs``) to measure its memory;
4. **commit/reveal**: the k members commit and reveal that result; the quorum's reveal
   finalizes the round, which is checked against the computed model CID.

Reported per N: median/mean gas of ``join`` and ``submitUpdate`` and their growth from the
smallest to the largest N (goal: within 5%), seconds per submission (put + signed send +
receipt, amortized over the batch), committee seconds, and the committee member's memory
as a multiple of one update (goal: O(1) models, i.e. not growing with N).

Usage: ``.venv/bin/python scripts/bench_scale.py [--sizes 10 100 1000] [--out FILE]``
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from eth_account import Account
from eth_utils import keccak

from ledger.chain import AnvilChain
from ledger.chain.transactions import fee_fields
from ledger.cohort import cohort_indices
from ledger.local_store import LocalStore
from ledger.market import FedMarket
from ledger.market_types import TaskParams, Update
from ledger.unixfs import cid_of, cid_str
from node.aggregation.round import aggregate_round
from node.codec.safetensors import encode_tensors, expected_layout
from node.learning.task import genesis_model_bytes, model_of
from node.requester.presets import preset_manifest
from node.runtime.committee import compute_round

COMMITTEE, QUORUM = 5, 3
ETHER = 10**18
GAS = {"join": 400_000, "submitUpdate": 300_000, "commit": 300_000, "reveal": 1_500_000}


def _manifest():
    return preset_manifest("shoppers", rounds=1, architecture="mlp",
                           model_params={"n_features": 67, "n_classes": 2, "hidden": [32]},
                           committee_size=COMMITTEE, quorum=QUORUM)


def _accounts(n: int) -> list:
    # Deterministic throwaway keys (bench only), funded by anvil_setBalance.
    return [Account.from_key(keccak(f"fedledger-bench-scale-{i}".encode())) for i in range(n)]


def _update_bytes(manifest, index: int) -> bytes:
    generator = torch.Generator().manual_seed(index)
    delta = {k: (0.01 * torch.randn(v.shape, generator=generator)).to(torch.float32)
             for k, v in model_of(manifest).state_dict().items()}
    return encode_tensors(delta)


def _send_batch(chain: AnvilChain, signed: list, chunk: int = 1000) -> tuple[list[dict], float]:
    """Send the raw transactions ``chunk`` at a time, each chunk mined into one block
    (automine off, a block gas limit that holds a chunk): anvil's cost is per block, so a
    transaction per block would make 100,000 joins take hours. Gas per transaction is the
    same either way. Returns (receipts in order, seconds)."""
    start = time.perf_counter()
    receipts: list[dict] = []
    chain._rpc("evm_setBlockGasLimit", [hex(chunk * max(GAS.values()) * 2)])
    chain._rpc("evm_setAutomine", [False])
    try:
        for first in range(0, len(signed), chunk):
            hashes = [chain.w3.eth.send_raw_transaction(tx.raw_transaction)
                      for tx in signed[first:first + chunk]]
            chain._rpc("evm_mine", [])
            receipts += [chain.w3.eth.wait_for_transaction_receipt(h, timeout=120) for h in hashes]
    finally:
        chain._rpc("evm_setAutomine", [True])
    seconds = time.perf_counter() - start
    failed = [r["transactionHash"].hex() for r in receipts if r["status"] != 1]
    if failed:
        raise RuntimeError(f"{len(failed)} transactions reverted, e.g. {failed[0]}")
    return receipts, seconds


def _goto(chain: AnvilChain, when: int) -> None:
    now = chain.timestamp()
    if when > now:
        chain.increase_time(when - now)


class LazyUpdates(Sequence):
    """``(bytes, numSamples)`` of each on-chain update, fetched from the store on access.

    What ``compute_round`` would pass ``aggregate_round`` to hold O(1) updates in memory
    instead of every payload at once (it fetches them all up front today).
    """

    def __init__(self, updates: list[Update], fetch: Callable[[Any], bytes]) -> None:
        self._updates, self._fetch = updates, fetch

    def __len__(self) -> int:
        return len(self._updates)

    def __getitem__(self, index):  # type: ignore[override]
        update = self._updates[index]
        return self._fetch(update.cid), update.num_samples


def _traced_peak(fn: Callable[[], Any]) -> tuple[Any, int]:
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _peak_rss_reset() -> int:
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    return _status_kib("VmRSS")


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def run(n: int, workdir: Path, cohort: int = 0) -> dict[str, Any]:
    manifest = _manifest()
    store = LocalStore(workdir / f"store-{n}")
    genesis = genesis_model_bytes(manifest)
    with AnvilChain(accounts=1, balance_eth=100_000) as chain:
        requester = chain.accounts[0]
        market = FedMarket.deploy(chain, sender=requester)
        params = TaskParams(
            manifest=cid_of(b"bench-scale manifest"), genesis=store.put(genesis),
            bounty=ETHER, rounds=1, max_participants=n, min_submissions=1,
            committee_size=COMMITTEE, quorum=QUORUM, dispute_size=2 * COMMITTEE + 1,
            join_duration=100_000, train_duration=100_000, commit_duration=100_000,
            reveal_duration=100_000, challenge_duration=100, claim_duration=100_000,
            min_stake=10**15, slash_bps=5_000, committee_fee=0, challenge_bond=10**15,
            max_retries=1, cohort_size=cohort)
        task = market.create_task(params, sender=requester)
        members = _accounts(n)
        start = time.perf_counter()
        for account in members:
            chain._rpc("anvil_setBalance", [account.address, hex(ETHER)])
        fund_s = time.perf_counter() - start
        contract, fees = market.contract, fee_fields(chain.w3)
        pubkey = bytes([2]) + bytes(32)

        start = time.perf_counter()
        signed = [contract.build_signed("join", task, pubkey, params.min_stake, sender=a, nonce=0,
                                        gas=GAS["join"], value=params.min_stake, fees=fees)
                  for a in members]
        join_sign_s = time.perf_counter() - start
        join_receipts, join_s = _send_batch(chain, signed)

        _goto(chain, market.round_state(task).attempt_start)
        draw_receipts = []
        trainers = members
        start = time.perf_counter()
        if cohort:
            draw_receipts = [market.draw_cohort(task, sender=requester)]
            seed = market.cohort_seed(task, 1)
            trainers = [members[i] for i in cohort_indices(seed, n, cohort)]  # O(K), not O(n)
        draw_s = time.perf_counter() - start
        start = time.perf_counter()
        cids = [store.put(_update_bytes(manifest, i)) for i in range(len(trainers))]
        put_s = time.perf_counter() - start
        start = time.perf_counter()
        signed = [contract.build_signed("submitUpdate", task, 1, cid.digest, cid.codec,
                                        100 + i % 50, sender=a, nonce=1,
                                        gas=GAS["submitUpdate"], fees=fees)
                  for i, (a, cid) in enumerate(zip(trainers, cids, strict=True))]
        sign_s = time.perf_counter() - start
        submit_receipts, submit_s = _send_batch(chain, signed)

        state = market.round_state(task)
        _goto(chain, state.train_end)
        updates = market.updates(task, 1)
        start = time.perf_counter()
        outcome = compute_round(manifest, params, 1, genesis, updates, store.get)
        committee_s = time.perf_counter() - start
        rss_before = _peak_rss_reset()
        _, traced_peak = _traced_peak(
            lambda: compute_round(manifest, params, 1, genesis, updates, store.get))
        rss_peak_delta = (_status_kib("VmHWM") - rss_before) * 1024
        layout = expected_layout(model_of(manifest))
        lazy = LazyUpdates(updates, store.get)
        start = time.perf_counter()
        streamed, streaming_peak = _traced_peak(lambda: aggregate_round(
            genesis, lazy, content_key=cid_str, layout=layout, rule=manifest.aggregation,
            rule_params=manifest.aggregation_params, max_samples=manifest.max_samples,
            round_index=1, scoring=manifest.reward_rule))
        streaming_s = time.perf_counter() - start

        by_address = {a.address: a for a in members}
        lock_receipt = market.lock_seed(task, sender=requester)
        committee = [by_address[a] for a in dict.fromkeys(market.committee(task))]
        salt = keccak(b"bench-scale salt")
        trained = {a.address for a in trainers}
        nonce = {a.address: 2 if a.address in trained else 1 for a in committee}
        _goto(chain, state.attest_end)  # no attestations: the contract does not require them

        start = time.perf_counter()
        signed = [contract.build_signed(
            "commit", task, 1, market.commitment(task, 1, state.attempt, outcome.model,
                                                 outcome.rewards_root, salt, a.address),
            sender=a, nonce=nonce[a.address], gas=GAS["commit"], fees=fees) for a in committee]
        commit_receipts, _ = _send_batch(chain, signed)
        _goto(chain, state.commit_end)
        signed = [contract.build_signed("reveal", task, 1, state.attempt, outcome.model.digest,
                                        outcome.model.codec, outcome.rewards_root, salt,
                                        sender=a, nonce=nonce[a.address] + 1, gas=GAS["reveal"],
                                        fees=fees)
                  for a in committee]
        reveal_receipts, _ = _send_batch(chain, signed)
        vote_s = time.perf_counter() - start
        lineage = market.lineage(task)
        finalized = len(lineage) == 1 and lineage[0].model == outcome.model

    update_size = len(_update_bytes(manifest, 0))
    join_gas = [int(r["gasUsed"]) for r in join_receipts]
    submit_gas = [int(r["gasUsed"]) for r in submit_receipts]
    round_receipts = [*draw_receipts, *submit_receipts, lock_receipt, *commit_receipts,
                      *reveal_receipts]
    return {
        "participants": n,
        "cohort": cohort,
        "trainers": len(trainers),
        "round_gas": sum(int(r["gasUsed"]) for r in round_receipts),
        "drawCohort_gas": int(draw_receipts[0]["gasUsed"]) if draw_receipts else None,
        "gas": {"join_median": int(statistics.median(join_gas)),
                "join_mean": round(statistics.mean(join_gas)),
                "submitUpdate_median": int(statistics.median(submit_gas)),
                "submitUpdate_mean": round(statistics.mean(submit_gas)),
                "commit_median": int(statistics.median(int(r["gasUsed"])
                                                       for r in commit_receipts)),
                "reveal_finalizing": int(reveal_receipts[-1]["gasUsed"])},
        "seconds": {"fund_members": round(fund_s, 3), "sign_joins": round(join_sign_s, 3),
                    "join_batch": round(join_s, 3),
                    "per_join": round((join_sign_s + join_s) / n, 5),
                    "draw_and_list_cohort": round(draw_s, 4),
                    "store_put_all": round(put_s, 3),
                    "sign_all_submits": round(sign_s, 3), "submit_batch": round(submit_s, 3),
                    "per_submission": round((put_s + sign_s + submit_s) / len(trainers), 5),
                    "committee_compute_round": round(committee_s, 3),
                    "committee_commit_reveal": round(vote_s, 3)},
        "committee_memory": {"update_bytes": update_size,
                             "tracemalloc_peak_bytes": traced_peak,
                             "tracemalloc_peak_updates": round(traced_peak / update_size, 1),
                             "rss_peak_delta_bytes": rss_peak_delta,
                             "streaming_tracemalloc_peak_bytes": streaming_peak,
                             "streaming_tracemalloc_peak_updates": round(
                                 streaming_peak / update_size, 1),
                             "streaming_same_model": streamed.model_bytes
                             == outcome.model_bytes,
                             "streaming_seconds_traced": round(streaming_s, 3)},
        "excluded": len(outcome.excluded),
        "round_finalized": finalized,
    }


def _growth(small: dict[str, Any], large: dict[str, Any], cohort: int) -> dict[str, float]:
    keys = ["join_median", "join_mean", "submitUpdate_median", "submitUpdate_mean"]
    growth = {k: round(large["gas"][k] / small["gas"][k], 4) for k in keys}
    if cohort:
        growth["round_gas"] = round(large["round_gas"] / small["round_gas"], 4)
        growth["drawCohort"] = round(large["drawCohort_gas"] / small["drawCohort_gas"], 4)
        growth["committee_compute_round_seconds"] = round(
            large["seconds"]["committee_compute_round"]
            / small["seconds"]["committee_compute_round"], 3)
    return growth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--cohort", type=int, default=0, metavar="K",
                        help="sample K trainers per round (growth is then measured from the "
                             "smallest size with at least K members)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON line here")
    args = parser.parse_args(argv)
    np.random.seed(0)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for n in args.sizes:
            print(f"bench_scale: {n} participants ...", file=sys.stderr, flush=True)
            results.append(run(n, Path(tmp), args.cohort))
            print(f"bench_scale: {json.dumps(results[-1])}", file=sys.stderr, flush=True)
    full = [r for r in results if r["participants"] >= args.cohort] or results
    small, large = full[0], results[-1]
    growth = _growth(small, large, args.cohort)
    flat = [k for k in growth if not k.endswith("seconds")]
    memory_growth = round(large["committee_memory"]["tracemalloc_peak_bytes"]
                          / small["committee_memory"]["tracemalloc_peak_bytes"], 2)
    report = {
        "bench": "scale", "committee": COMMITTEE, "quorum": QUORUM, "cohort": args.cohort,
        "model": "mlp 67-32-1", "results": results,
        "growth_from": small["participants"], "growth_to": large["participants"],
        "gas_growth_smallest_to_largest": growth,
        "goal_gas_flat_within_5pct": all(growth[k] <= 1.05 for k in flat),
        "largest_round_finalized": large["round_finalized"],
        "committee_memory_growth_smallest_to_largest": memory_growth,
        "goal_committee_memory_o1_models": large["committee_memory"]["tracemalloc_peak_updates"]
        <= 10,
        "streaming_committee_memory_growth_smallest_to_largest": round(
            large["committee_memory"]["streaming_tracemalloc_peak_bytes"]
            / small["committee_memory"]["streaming_tracemalloc_peak_bytes"], 2),
    }
    line = json.dumps(report)
    print(line)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
