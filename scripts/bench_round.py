"""Round latency and accuracy: fedledger vs Flower vs a plain PyTorch loop, in one run.

The same federated task four ways: the ``shoppers`` preset (logistic regression, SGD
lr 0.1, batch 32, 1 local epoch, seed 2024), the natural split (one ``Region`` per
participant, 9 participants), 20 rounds, FedAvg over everyone each round, and the same
final evaluation (every participant's held-out rows pooled):

* ``plain``: ``node.sim.simulate.run_simulation`` in this process (train, encode, aggregate,
  CID), and ``plain_minimal``: a hand-written loop over ``train_local`` with a float64
  weighted mean and no serialization (the compute floor);
* ``flower_sim``: Flower's simulation engine (Ray actors);
* ``flower_deployment``: Flower's deployment engine, a SuperLink and one SuperNode
  process per participant (``scripts/flower_engines.py``);
* ``fedledger``: ``node.demo.run.DemoRun``: anvil, the market contract, the local content
  store and one ``fedledger node run`` process per participant, with the dev-chain time
  keeper; each node runs under ``scripts/timed_node.py`` so the time it spends training,
  serializing, in the store, on chain and in the committee is measured;
  Nodes and time keeper are woken by each new block (newHeads, ``--wake blocks``, the default);
* ``fedledger_poll``: the same, nodes and time keeper reading the chain every poll interval
  (``--wake poll``) instead;
* ``fedledger_p2p``: the same with one js-ipfs node per participant (and the requester's),
  peered on 127.0.0.1: every update reaches the committee by bitswap. Adds the bytes each
  node received and sent by bitswap (``bitswap/stat``), per round and per node per round.

``seconds_per_round`` is (end of the last round - start of round 1) / rounds: process
start-up and joining are outside it and reported as ``startup_s``; ``total_s`` is launch to
final model. Prints one JSON line (also saved with ``--out``)::

    .venv/bin/python scripts/bench_round.py --out bench/results/round.json

Needs the ``bench`` extra for Flower (``pip install -e '.[bench]'``); ``--skip flower_sim``
etc. leaves a way out.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from ledger.market_types import Phase
from node.codec.safetensors import encode_tensors
from node.demo.run import DemoConfig, DemoRun, NodeProcess
from node.learning.task import evaluate_clients, hyper_of, model_of
from node.learning.train import train_local
from node.requester.presets import preset_manifest
from node.seeds import derive_seed
from node.sim.setup import SimulationSetup, build_clients
from node.sim.simulate import model_cid, run_simulation

SCRIPTS = Path(__file__).resolve().parent
WAYS = ("plain", "plain_minimal", "flower_sim", "flower_deployment", "fedledger",
        "fedledger_poll", "fedledger_p2p")


def _metrics(final: dict[str, Any]) -> dict[str, Any]:
    return {"accuracy": round(final["accuracy"], 6),
            "auc": None if final["auc"] is None else round(final["auc"], 6)}


def _timing(round_ends: list[float], launched: float) -> dict[str, Any]:
    rounds = len(round_ends) - 1
    return {"seconds_per_round": round((round_ends[-1] - round_ends[0]) / rounds, 3),
            "seconds_per_round_after_first": round(
                (round_ends[-1] - round_ends[1]) / max(1, rounds - 1), 3),
            "startup_s": round(round_ends[0] - launched, 2),
            "total_s": round(round_ends[-1] - launched, 2)}


# ---------------------------------------------------------------------- (a) plain torch

def run_plain(manifest, clients) -> dict[str, Any]:
    launched = time.time()
    result = run_simulation(manifest, clients, evaluate_every=manifest.rounds)
    ends = [launched]
    for entry in result.rounds:
        ends.append(ends[-1] + entry["seconds"])  # evaluation is outside "seconds"
    return {**_timing(ends, launched), **_metrics(result.rounds[-1]["eval"]),
            "final_cid": result.final_cid}


def run_plain_minimal(manifest, clients) -> dict[str, Any]:
    """FedAvg with nothing but training and a float64 weighted mean of the deltas."""
    launched = time.time()
    model, hyper = model_of(manifest), hyper_of(manifest)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    ends = [time.time()]
    for round_index in range(1, manifest.rounds + 1):
        total, summed = 0, {k: torch.zeros_like(v, dtype=torch.float64)
                            for k, v in weights.items()}
        for client in clients:
            local = train_local(model, weights, client.train, hyper,
                                derive_seed(manifest.seed, "train", round_index,
                                            client.client_id))
            total += local.num_samples
            for k, delta in local.delta.items():
                summed[k] += delta.to(torch.float64) * local.num_samples
        weights = {k: (weights[k].to(torch.float64) + summed[k] / total).to(torch.float32)
                   for k in weights}
        ends.append(time.time())
    final = encode_tensors(weights)
    return {**_timing(ends, launched), **_metrics(evaluate_clients(manifest, final, clients)),
            "final_cid": model_cid(final)}


# ---------------------------------------------------------------------- (c) fedledger

class TimedDemoRun(DemoRun):
    """The demo with every node process under ``scripts/timed_node.py``."""

    def node_command(self, node: NodeProcess) -> list[str]:
        command = super().node_command(node)
        assert command[1:3] == ["-m", "node.cli.app"]
        return [command[0], str(SCRIPTS / "timed_node.py"), *command[3:]]


def _phase_walls(ticks: list[tuple[float, int, str]], start: float, end: float) -> dict:
    walls: dict[str, float] = {}
    for (t, _round, phase), (t_next, _, _) in itertools.pairwise(ticks):
        lo, hi = max(t, start), min(t_next, end)
        if hi > lo:
            walls[phase] = walls.get(phase, 0.0) + hi - lo
    return {k: round(v, 2) for k, v in sorted(walls.items())}


def _node_timings(directory: Path, rounds: int) -> dict[str, Any]:
    per_node = [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
    totals: dict[str, float] = {}
    cpu_totals: dict[str, float] = {}
    for entry in per_node:
        for key, seconds in entry["seconds"].items():
            totals[key] = totals.get(key, 0.0) + seconds
        for key, seconds in entry.get("cpu_seconds", {}).items():
            cpu_totals[key] = cpu_totals.get(key, 0.0) + seconds
    n = max(1, len(per_node))
    cpu = sum(entry.get("cpu_after_startup_s", 0.0) for entry in per_node)
    return {"nodes": len(per_node),
            "per_node_per_round_s": {k: round(v / n / rounds, 4)
                                     for k, v in sorted(totals.items()) if k != "startup"},
            "cpu_per_node_per_round_s": round(cpu / n / rounds, 4),
            "cpu_split_per_node_per_round_s": {k: round(v / n / rounds, 4)
                                               for k, v in sorted(cpu_totals.items())
                                               if k != "startup"},
            "startup_per_node_s": round(totals.get("startup", 0.0) / n, 2)}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _bitswap_bytes(run: DemoRun) -> dict[str, Any]:
    """Bytes each IPFS node received and sent by bitswap over the whole task."""
    assert run.swarm is not None
    per_node = {}
    for name, node in run.swarm.nodes.items():
        stat = node.rpc("bitswap/stat")
        per_node[name] = {"received": int(stat.get("DataReceived", 0)),
                          "sent": int(stat.get("DataSent", 0))}
    return per_node


def run_fedledger(workdir: Path, manifest, clients, *, p2p: bool = False,
                  wake: str = "blocks") -> dict[str, Any]:
    timings = workdir / "node-timings"
    timings.mkdir(parents=True)
    os.environ["FEDLEDGER_TIMINGS"] = str(timings)
    launched = time.time()
    run = TimedDemoRun.start(DemoConfig(workdir=workdir / "demo", participants=len(clients),
                                        rounds=manifest.rounds, timeout=3600.0,
                                        ipfs_per_node=p2p, wake=wake))
    moved: dict[str, Any] | None = None
    ticks: list[tuple[float, int, str]] = []
    ends: dict[int, float] = {}
    anvil_pid = run.chain.pid
    cpu_at_round_1: dict[str, float] = {}
    try:
        def watch(progress, _jump) -> None:
            now, state = time.time(), progress.state
            ticks.append((now, state.round, state.phase.name))
            if state.phase == Phase.TRAIN and 0 not in ends:
                ends[0] = now  # joining is over: round 1 starts
                cpu_at_round_1.update(anvil=_cpu_seconds(anvil_pid),
                                      driver=time.process_time())
            for finalized in range(1, progress.finalized + 1):
                ends.setdefault(finalized, now)

        run.drive(on_progress=watch, until=lambda _p: not run.live_addresses())
        # Rounds only (from round 1's start): the anvil process, and this process (the time
        # keeper and its block watcher; the bench does nothing else meanwhile).
        cpu_rounds = {"anvil": _cpu_seconds(anvil_pid) - cpu_at_round_1["anvil"],
                      "time_keeper": time.process_time() - cpu_at_round_1["driver"]}
        codes = run.wait_nodes()
        if len(run.market.lineage(run.posted.task)) != manifest.rounds:
            raise RuntimeError(f"fedledger nodes exited early; see {workdir / 'demo/logs'}")
        lineage = run.market.lineage(run.posted.task)
        final_bytes = run.store.get(lineage[-1].model)
        if p2p:
            moved = _bitswap_bytes(run)
    finally:
        run.close()
    round_ends = [ends[r] for r in range(manifest.rounds + 1)]
    return {**_timing(round_ends, launched),
            **_metrics(evaluate_clients(manifest, final_bytes, clients)),
            "final_cid": str(lineage[-1].model), "node_exit_codes": sorted(set(codes.values())),
            "chain_phase_wall_s": _phase_walls(ticks, round_ends[0], round_ends[-1]),
            "node_time": _node_timings(timings, manifest.rounds),
            "cpu_per_round_s": {k: round(v / manifest.rounds, 4) for k, v in cpu_rounds.items()},
            **({"bitswap_bytes": moved,
                "bitswap_received_per_round": round(sum(v["received"] for v in moved.values())
                                                    / manifest.rounds),
                "bitswap_received_per_node_per_round": round(
                    sum(v["received"] for v in moved.values()) / manifest.rounds / len(moved))}
               if moved is not None else {})}


# ---------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--participants", type=int, default=9)
    parser.add_argument("--skip", action="append", default=[], choices=WAYS)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON line here")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-round-"))
    manifest = preset_manifest("shoppers", rounds=args.rounds)
    clients = build_clients(manifest, SimulationSetup(partition="natural",
                                                      column="Region"))[:args.participants]
    results: dict[str, Any] = {}
    for way in WAYS:
        if way in args.skip:
            continue
        print(f"bench_round: {way} ...", file=sys.stderr, flush=True)
        if way == "plain":
            results[way] = run_plain(manifest, clients)
        elif way == "plain_minimal":
            results[way] = run_plain_minimal(manifest, clients)
        elif way == "flower_sim":
            from flower_engines import run_flower_simulation

            raw = run_flower_simulation(workdir / "flower-sim", rounds=args.rounds,
                                        participants=args.participants)
            results[way] = {**_timing(raw["round_ends"], raw["launched"]),
                            **_metrics(raw["final"])}
        elif way == "flower_deployment":
            from flower_engines import run_flower_deployment

            raw = run_flower_deployment(workdir / "flower-deployment", rounds=args.rounds,
                                        participants=args.participants)
            results[way] = {**_timing(raw["round_ends"], raw["launched"]),
                            **_metrics(raw["final"])}
        else:
            results[way] = run_fedledger(workdir / way, manifest, clients,
                                         p2p=way == "fedledger_p2p",
                                         wake="poll" if way == "fedledger_poll" else "blocks")
        print(f"bench_round: {way} {json.dumps(results[way])}", file=sys.stderr, flush=True)
    report = _report(args, results)
    line = json.dumps(report)
    print(line)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(line + "\n")
    return 0


def _report(args: argparse.Namespace, results: dict[str, Any]) -> dict[str, Any]:
    report: dict[str, Any] = {
        "bench": "round", "task": "shoppers natural split, logreg, 1 local epoch, FedAvg",
        "participants": args.participants, "rounds": args.rounds, "cpus": os.cpu_count(),
        "torch": torch.__version__, "results": results, "ratios": {}}
    # Variants of the fedledger run against it, same run: one IPFS node per shop instead of a
    # shared store; nodes and time keeper polling instead of woken by each block.
    for way, same_bits in (("fedledger_p2p", "fedledger_p2p_equals_shared_store_bit_for_bit"),
                           ("fedledger_poll", "fedledger_poll_equals_fedledger_bit_for_bit")):
        variant, base = results.get(way), results.get("fedledger")
        if variant is not None and base is not None:
            report["ratios"][f"{way}/fedledger"] = round(
                variant["seconds_per_round"] / base["seconds_per_round"], 2)
            report[same_bits] = variant["final_cid"] == base["final_cid"]
    ours = results.get("fedledger")
    if ours is None:
        return report
    report["ratios_after_first_round"] = {}
    for base in ("plain", "plain_minimal", "flower_sim", "flower_deployment"):
        if base in results:
            report["ratios"][f"fedledger/{base}"] = round(
                ours["seconds_per_round"] / results[base]["seconds_per_round"], 2)
            report["ratios_after_first_round"][f"fedledger/{base}"] = round(
                ours["seconds_per_round_after_first"]
                / results[base]["seconds_per_round_after_first"], 2)
    if "plain" in results:
        report["fedledger_equals_plain_bit_for_bit"] = ours["final_cid"] == \
            results["plain"]["final_cid"]
        report["accuracy_gap_points"] = round(
            100 * (ours["accuracy"] - results["plain"]["accuracy"]), 3)
    if "flower_deployment" in results:
        report["goal_c_over_b_deployment_le_1_25"] = \
            report["ratios"]["fedledger/flower_deployment"] <= 1.25
    report["goal_after_first_round_le_1s"] = ours["seconds_per_round_after_first"] <= 1.0
    if "flower_sim" in results:
        report["goal_after_first_round_le_3x_flower_sim"] = \
            report["ratios_after_first_round"]["fedledger/flower_sim"] <= 3.0
    return report


if __name__ == "__main__":
    sys.exit(main())
