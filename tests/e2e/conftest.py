"""End-to-end helpers: a demo run with real anvil, real node processes and a real store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from node.demo.run import DemoConfig, DemoRun
from node.requester.presets import preset_manifest
from node.sim.simulate import run_simulation

# The time keeper ends a phase as soon as every live node has acted; the stall timeout is
# only a last resort. On a loaded CI machine a node can need tens of seconds to import torch
# and train, and a short stall would cut its window and change what the test measures.
STALL_SECONDS = 240.0
# Tests kill members: a dead member keeps its stake, so it keeps being drawn, and an attempt
# where it holds a quorum's worth of seats fails. With 3 equal members and 3 seats that is 26%
# of attempts; 6 retries make a round fail 3 in 100,000 times instead of 2 in 100 (CI lost
# that lottery with the contract's 2).
MAX_RETRIES = 6


@contextmanager
def demo_run(workdir: Path, *, participants: int = 3, rounds: int = 3, ipfs: str | None = None,
             ipfs_per_node: bool = False, keep_rounds: int | None = None, launch: bool = True,
             stall_seconds: float = STALL_SECONDS, cohort: int = 0,
             partition: str = "natural") -> Iterator[DemoRun]:
    run = DemoRun.start(DemoConfig(workdir=workdir, participants=participants, rounds=rounds,
                                   ipfs=ipfs, ipfs_per_node=ipfs_per_node, keep_rounds=keep_rounds,
                                   stall_seconds=stall_seconds, timeout=420.0,
                                   max_retries=MAX_RETRIES, cohort=cohort, partition=partition),
                        launch=launch)
    try:
        yield run
    finally:
        run.close()


def simulated_final_cid(run: DemoRun) -> str:
    """What `fedledger simulate` computes for the same manifest and shops."""
    cfg = run.config
    manifest = preset_manifest(cfg.preset, rounds=cfg.rounds, aggregation=cfg.aggregation,
                               committee_size=cfg.committee, quorum=cfg.quorum)
    return run_simulation(manifest, run.clients).final_cid


def submissions_by_round(run: DemoRun) -> dict[int, list[str]]:
    events = run.market.contract.events("UpdateSubmitted", task=run.posted.task)
    out: dict[int, list[str]] = {}
    for e in events:
        out.setdefault(e["args"]["round"], []).append(e["args"]["participant"])
    return out


def claims(run: DemoRun) -> list[tuple[int, str, int]]:
    return [(e["args"]["round"], e["args"]["account"], e["args"]["amount"])
            for e in run.market.contract.events("RewardClaimed", task=run.posted.task)]
