#!/usr/bin/env python3
"""Secure vs open mode on the real system: prints ONE JSON line.

Runs the same demo task twice in this process's run (anvil, one ``fedledger node run``
process per shop, the embedded store, the dev-chain time keeper): once with
``privacy="open"``, once with ``privacy="secure"``. For each it reports wall seconds per
round, measured from the first moment round 1's train phase is seen to the last round's
finalization, divided by the number of rounds (process start-up and joining excluded),
and the ratio secure / open. With ``--drop`` one shop is killed after joining in the
secure run, so every secure round goes through dropout recovery.

Wall time depends on the machine's load (shared CPUs): compare the two numbers of one
run, not numbers across runs.

Usage: .venv/bin/python scripts/bench_secure_demo.py [--participants 3] [--rounds 3] [--drop]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from ledger.market_types import Phase
from node.demo.run import DemoConfig, DemoRun
from node.demo.timekeeper import TimeKeeper


def _seconds_per_round(workdir: Path, *, participants: int, rounds: int, privacy: str,
                       drop: bool) -> dict:
    config = DemoConfig(workdir=workdir, participants=participants, rounds=rounds,
                        privacy=privacy, stall_seconds=20.0, timeout=900.0)
    run = DemoRun.start(config)
    try:
        if drop:
            keeper = TimeKeeper(run.chain, run.market, run.posted.task, live=run.live_addresses)
            while keeper.progress().members < participants:
                time.sleep(0.1)
            run.kill(participants - 1)
        marks: dict[str, float] = {}

        def on_progress(progress, _jump) -> None:
            now = time.monotonic()
            if progress.state.phase == Phase.TRAIN:
                marks.setdefault("train", now)
            if progress.finalized >= rounds:
                marks.setdefault("done", now)

        last = run.drive(on_progress=on_progress, poll_seconds=0.2)
        run.wait_nodes()
        attempts = [e.attempt for e in run.market.lineage(run.posted.task)]
    finally:
        run.close()
    if last.state.phase != Phase.FINISHED or "done" not in marks:
        raise SystemExit(f"{privacy} run did not finish: see {workdir / 'logs'}")
    return {"seconds_per_round": round((marks["done"] - marks["train"]) / rounds, 2),
            "retried_rounds": sum(1 for a in attempts if a > 0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--drop", action="store_true", help="kill one shop in the secure run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fedledger-bench-secure-") as tmp:
        opened = _seconds_per_round(Path(tmp) / "open", participants=args.participants,
                                    rounds=args.rounds, privacy="open", drop=False)
        secure = _seconds_per_round(Path(tmp) / "secure", participants=args.participants,
                                    rounds=args.rounds, privacy="secure", drop=args.drop)
    print(json.dumps({
        "bench": "secure_demo", "participants": args.participants, "rounds": args.rounds,
        "secure_dropout": args.drop, "open": opened, "secure": secure,
        "ratio_secure_over_open": round(secure["seconds_per_round"]
                                        / opened["seconds_per_round"], 2),
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
