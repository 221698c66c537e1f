"""Benchmark streaming FedAvg against a plain numpy sum; prints ONE JSON line.

For N in {10, 100} updates of a 1M-parameter float32 model:

* ``fedavg_s``: ``node.aggregation.fedavg.fedavg`` over the N arrays (float64 weighted running sum),
* ``numpy_sum_s``: ``stack.sum(axis=0, dtype=float64)`` over the same arrays already
  stacked (the fastest plain numpy way to sum them, unweighted), and the ratio;
* ``fedavg_peak_bytes``: peak extra memory (tracemalloc, which sees numpy's buffers) of
  FedAvg fed by a generator that makes one update at a time, also in units of one float64
  model (``fedavg_peak_models``); the numpy baseline must hold all N arrays at once
  (``numpy_stack_bytes``);
* ``round_s``: ``aggregate_round`` end to end from bytes (CIDs, decode, validation,
  FedAvg, encode).

Usage: ``.venv/bin/python scripts/bench_aggregate.py [--params 1000000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections.abc import Iterator

import numpy as np

from ledger.unixfs import cid_str
from node.aggregation.fedavg import ClientUpdate, fedavg
from node.aggregation.round import aggregate_round
from node.codec.safetensors import encode_tensors


def _best_of(repeats: int, fn) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def _generated(n: int, size: int) -> Iterator[ClientUpdate]:
    rng = np.random.default_rng(1)
    for i in range(n):
        yield ClientUpdate(delta=rng.standard_normal(size, dtype=np.float32), num_samples=i + 1)


def _peak_bytes(n: int, size: int) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    fedavg(_generated(n, size), max_samples=50)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - before


def _one(n: int, size: int, repeats: int, with_round: bool) -> dict[str, object]:
    rng = np.random.default_rng(0)
    stack = rng.standard_normal((n, size), dtype=np.float32)
    updates = [ClientUpdate(delta=stack[i], num_samples=int(k))
               for i, k in enumerate(rng.integers(1, 100, size=n))]
    fedavg_s = _best_of(repeats, lambda: fedavg(updates, max_samples=50))
    numpy_s = _best_of(repeats, lambda: stack.sum(axis=0, dtype=np.float64))
    peak = _peak_bytes(n, size)
    result: dict[str, object] = {
        "n": n,
        "fedavg_s": round(fedavg_s, 4),
        "numpy_sum_s": round(numpy_s, 4),
        "ratio_fedavg_to_numpy": round(fedavg_s / numpy_s, 2),
        "fedavg_peak_bytes": peak,
        "fedavg_peak_models": round(peak / (8 * size), 2),
        "numpy_stack_bytes": int(stack.nbytes),
    }
    if with_round:
        layout = {"w": ((size,), "F32")}
        parent = encode_tensors({"w": np.zeros(size, dtype=np.float32)})
        payloads = [(encode_tensors({"w": u.delta}), u.num_samples) for u in updates]
        del stack, updates
        result["round_s"] = round(_best_of(1, lambda: aggregate_round(
            parent, payloads, content_key=cid_str, layout=layout, rule="fedavg", max_samples=50)), 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs = [_one(n, args.params, args.repeats, with_round=True) for n in (10, 100)]
    worst = max(float(r["ratio_fedavg_to_numpy"]) for r in runs)
    peaks = [int(r["fedavg_peak_bytes"]) for r in runs]
    print(json.dumps({
        "bench": "aggregate",
        "params": args.params,
        "runs": runs,
        "worst_ratio": worst,
        "goal_ratio_within_2x": worst <= 2.0,
        "peak_independent_of_n": max(peaks) <= 1.1 * min(peaks),
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
