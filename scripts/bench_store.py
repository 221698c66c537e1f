"""Content-store throughput next to the hashing limit, as ONE JSON line.

For 1, 10 and 100 MB of seeded random bytes, measures in the same run:

* ``sha256``: plain ``hashlib.sha256(data)`` (every store must hash every byte once);
* ``local_put`` / ``local_get``: ``LocalStore`` in a fresh directory per repetition;
* ``ipfs_put`` / ``ipfs_get``: ``IpfsStore`` on a js-ipfs node this script starts
  (``--no-ipfs`` skips it);

and reports MB/s (1 MB = 10^6 bytes, best of ``--repeats``) plus each rate as a ratio
of the sha256 rate. Goal: ``local_put`` >= 0.5 x sha256.

``cross_node`` (skipped with ``--no-ipfs``): two js-ipfs nodes with their own repos, peered on
127.0.0.1; for 1 KB, 1 MB and 20 MB added on node A, the seconds of a verified ``get`` through
node B (bitswap from A, fresh content each repetition) against a ``get`` through A itself,
and their ratio.

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

from ledger.ipfs_store import IpfsStore
from ledger.local_store import LocalStore
from ledger.unixfs import cid_of
from node.demo.ipfs_daemon import JsIpfsDaemon

SIZES_MB = (1, 10, 100)
GOAL_PUT_RATIO = 0.5
REPO = Path(__file__).resolve().parent.parent


def _seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _payloads(size: int, repeats: int) -> list[bytes]:
    # Distinct content per repetition, so no store can skip blocks it already holds.
    return [random.Random(size * 1000 + rep).randbytes(size) for rep in range(repeats)]


def _bench_size(payloads: list[bytes], workdir: Path, ipfs: IpfsStore | None) -> dict[str, float]:
    """Best seconds per operation on LocalStore (``ipfs`` None) or on the IPFS node.

    Each repetition times sha256 right before the store on the same bytes, so a load
    spike from other processes hits the baseline and the store alike.
    """
    times: dict[str, list[float]] = {}

    def timed(name: str, run: Callable[[], object]) -> None:
        times.setdefault(name, []).append(_seconds(run))

    for rep, data in enumerate(payloads):
        cid = cid_of(data)
        timed("sha256", lambda: hashlib.sha256(data).digest())  # noqa: B023 - called at once
        if ipfs is not None:
            timed("ipfs_put", lambda: ipfs.put(data))  # noqa: B023
            timed("ipfs_get", lambda: _check(ipfs.get(cid), data))  # noqa: B023
            continue
        local = LocalStore(workdir / f"local-{len(data)}-{rep}")
        timed("local_put", lambda: local.put(data))  # noqa: B023
        timed("local_get", lambda: _check(local.get(cid), data))  # noqa: B023
        shutil.rmtree(local.root)
    return {name: min(values) for name, values in times.items()}


def _rates(size_mb: int, timings: dict[str, float], baseline: str = "sha256") -> dict[str, float]:
    rates = {f"{name}_mb_s": round(size_mb / sec, 1) for name, sec in timings.items()}
    for name, seconds in timings.items():
        if name != baseline:
            rates[f"{name}_vs_sha256"] = round(timings[baseline] / seconds, 3)
    return rates


def _check(got: bytes, expected: bytes) -> None:
    if got != expected:
        raise SystemExit("a store returned different bytes")


CROSS_SIZES = {"1KB": 1_000, "1MB": 1_000_000, "20MB": 20_000_000}


def _cross_node(*, workdir_root: Path, repeats: int) -> dict[str, dict[str, float]]:
    """Seconds (best of ``repeats``) of a get from a peer vs from the node that added it."""
    from node.demo.ipfs_swarm import IpfsSwarm

    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-p2p-", dir=workdir_root) as tmp, \
            IpfsSwarm(Path(tmp), ["a", "b"]) as swarm, \
            IpfsStore(swarm["a"].api_url, timeout=120.0) as a, \
            IpfsStore(swarm["b"].api_url, timeout=120.0) as b:
        rng = random.Random(7)
        for name, size in CROSS_SIZES.items():
            local, peer = [], []
            for _ in range(repeats):
                data = rng.randbytes(size)  # fresh bytes: B never holds them before the get
                cid = a.put(data)
                local.append(_seconds(lambda c=cid, d=data: _check(a.get(c), d)))
                peer.append(_seconds(lambda c=cid, d=data: _check(b.get(c), d)))
            out[name] = {"local_get_s": round(min(local), 4), "peer_get_s": round(min(peer), 4),
                         "peer_vs_local": round(min(peer) / min(local), 2),
                         "peer_MB_per_s": round(size / 1e6 / min(peer), 2)}
    return out


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

    results: dict[str, dict[str, float]] = {f"{size_mb}MB": {} for size_mb in SIZES_MB}
    with tempfile.TemporaryDirectory(prefix="bench-store-", dir=args.dir) as tmp:
        workdir = Path(tmp)
        # LocalStore first, with no IPFS node running: js-ipfs fsyncs every block,
        # which would slow the file creations LocalStore makes.
        for size_mb in SIZES_MB:
            payloads = _payloads(size_mb * 1_000_000, args.repeats)
            results[f"{size_mb}MB"].update(_rates(size_mb, _bench_size(payloads, workdir, None)))
        if not args.no_ipfs:
            with (
                JsIpfsDaemon(workdir / "ipfs-repo") as daemon,
                IpfsStore(daemon.api_url, timeout=120.0) as ipfs,
            ):
                for size_mb in SIZES_MB:
                    payloads = _payloads(size_mb * 1_000_000, args.repeats)
                    timings = _bench_size(payloads, workdir, ipfs)
                    timings["sha256_ipfs_phase"] = timings.pop("sha256")
                    results[f"{size_mb}MB"].update(_rates(size_mb, timings, "sha256_ipfs_phase"))

    cross = None if args.no_ipfs else _cross_node(workdir_root=args.dir, repeats=args.repeats)
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
                "cross_node": cross,
                "goal": f"local_put >= {GOAL_PUT_RATIO} x sha256",
                "goal_met_100MB": ratio_100 >= GOAL_PUT_RATIO,
            },
            sort_keys=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
