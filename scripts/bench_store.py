"""Content-store throughput next to the hashing limit, as ONE JSON line.

For 1, 10 and 100 MB of seeded random bytes, measures in the same run:

* ``sha256``: plain ``hashlib.sha256(data)`` (every store must hash every byte once);
* ``local_put`` / ``local_get``: ``LocalStore`` in a fresh directory per repetition;
* ``ipfs_put`` / ``ipfs_get``: ``IpfsStore`` on a js-ipfs node this script starts
  (``--no-ipfs`` skips it);

and reports MB/s (1 MB = 10^6 bytes, best of ``--repeats``) plus each rate as a ratio
of the sha256 rate. Goal: ``local_put`` >= 0.5 x sha256.

Usage: ``.venv/bin/python scripts/bench_store.py [--repeats 3] [--dir DIR] [--no-ipfs]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ledger.cid import Cid
from ledger.ipfs_daemon import JsIpfsDaemon
from ledger.ipfs_store import IpfsStore
from ledger.local_store import LocalStore

SIZES_MB = (1, 10, 100)
GOAL_PUT_RATIO = 0.5
REPO = Path(__file__).resolve().parent.parent


def _best_seconds(run: Callable[[int], object], repeats: int) -> float:
    """Best wall time of ``run(repetition)`` over ``repeats`` runs."""
    best = float("inf")
    for rep in range(repeats):
        started = time.perf_counter()
        run(rep)
        best = min(best, time.perf_counter() - started)
    return best


def _payloads(size: int, repeats: int) -> list[bytes]:
    # Distinct content per repetition, so no store can skip blocks it already holds.
    return [random.Random(size * 1000 + rep).randbytes(size) for rep in range(repeats)]


def _bench_local(payloads: list[bytes], workdir: Path) -> tuple[float, float]:
    size = len(payloads[0])
    stores = [LocalStore(workdir / f"local-{size}-{rep}") for rep in range(len(payloads))]
    cids: list[Cid | None] = [None] * len(payloads)

    def put(rep: int) -> None:
        cids[rep] = stores[rep].put(payloads[rep])

    def get(rep: int) -> None:
        if stores[rep].get(cids[rep]) != payloads[rep]:  # type: ignore[arg-type]
            raise SystemExit("LocalStore returned different bytes")

    put_s = _best_seconds(put, len(payloads))
    get_s = _best_seconds(get, len(payloads))
    for store in stores:
        shutil.rmtree(store.root)
    return put_s, get_s


def _bench_ipfs(payloads: list[bytes], store: IpfsStore) -> tuple[float, float]:
    cids: list[Cid | None] = [None] * len(payloads)

    def put(rep: int) -> None:
        cids[rep] = store.put(payloads[rep])

    def get(rep: int) -> None:
        if store.get(cids[rep]) != payloads[rep]:  # type: ignore[arg-type]
            raise SystemExit("IpfsStore returned different bytes")

    return _best_seconds(put, len(payloads)), _best_seconds(get, len(payloads))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--dir",
        type=Path,
        default=REPO / "build",
        help="where the stores and the IPFS repo live (default: ./build)",
    )
    parser.add_argument("--no-ipfs", action="store_true", help="skip the js-ipfs node")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-store-", dir=args.dir) as tmp:
        workdir = Path(tmp)
        daemon = None if args.no_ipfs else JsIpfsDaemon(workdir / "ipfs-repo")
        try:
            if daemon is not None:
                daemon.start()
            ipfs = IpfsStore(daemon.api_url, timeout=120.0) if daemon else None
            for size_mb in SIZES_MB:
                size = size_mb * 1_000_000
                payloads = _payloads(size, args.repeats)
                rates: dict[str, float] = {}
                sha_s = _best_seconds(
                    lambda rep, data=payloads: hashlib.sha256(data[rep]).digest(), args.repeats
                )
                timings = {"sha256": sha_s}
                timings["local_put"], timings["local_get"] = _bench_local(payloads, workdir)
                if ipfs is not None:
                    timings["ipfs_put"], timings["ipfs_get"] = _bench_ipfs(payloads, ipfs)
                for name, seconds in timings.items():
                    rates[f"{name}_mb_s"] = round(size_mb / seconds, 1)
                for name, seconds in timings.items():
                    if name != "sha256":
                        rates[f"{name}_vs_sha256"] = round(sha_s / seconds, 3)
                results[f"{size_mb}MB"] = rates
            if ipfs is not None:
                ipfs.close()
        finally:
            if daemon is not None:
                daemon.stop()

    ratio_100 = results["100MB"]["local_put_vs_sha256"]
    print(
        json.dumps(
            {
                "bench": "store",
                "unit": "MB/s (10^6 bytes), best of repeats",
                "repeats": args.repeats,
                "store_dir": str(args.dir),
                "ipfs": "js-ipfs 0.66.1 offline" if not args.no_ipfs else None,
                "results": results,
                "goal": f"local_put >= {GOAL_PUT_RATIO} x sha256",
                "goal_met_100MB": ratio_100 >= GOAL_PUT_RATIO,
            },
            sort_keys=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
