"""Render ``bench/README.md`` from the JSON lines saved under ``bench/results/*.json``.

Each ``scripts/bench_*.py`` prints one JSON line; save it with ``--out
bench/results/NAME.json`` (or ``> bench/results/NAME.json``) and run::

    .venv/bin/python scripts/render_bench.py

The round and scale benchmarks get their own tables; any other result is shown as a
flat key/value table, so a new benchmark appears without changing this script.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WAY_NAMES = {
    "plain": "(a) plain PyTorch FedAvg, `node.sim.simulate.run_simulation` (1 process)",
    "plain_minimal": "(a') hand-written loop: train + float64 mean only (1 process)",
    "flower_sim": "(b) Flower 1.42 FedAvg, simulation engine (Ray)",
    "flower_deployment": "(b) Flower 1.42 FedAvg, deployment engine (SuperLink + 1 SuperNode each)",
    "fedledger": "(c) fedledger: anvil + FedMarket + content store + 1 node process each",
}
NODE_TIME_NAMES = {
    "train": "training (local epoch)", "serialize": "serialization (safetensors)",
    "store": "content store put/get", "chain_tx": "chain transactions (send + receipt)",
    "chain_read": "chain reads (views, events)", "committee": "committee (aggregate, Merkle)",
    "poll_sleep": "idle (poll sleep, waiting for others/phases)",
}


def load_results(directory: Path) -> list[dict[str, Any]]:
    """Every JSON line of every ``*.json`` file in ``directory`` (sorted by file name)."""
    results = []
    for path in sorted(directory.glob("*.json")):
        for line in path.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                entry.setdefault("bench", path.stem)
                entry["_file"] = path.name
                results.append(entry)
    return results


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return lines + [""]


def render_round(entry: dict[str, Any]) -> list[str]:
    results = entry["results"]
    out = [f"## Round latency and accuracy (`scripts/bench_round.py`, {entry['_file']})", "",
           (f"Task: {entry['task']}; {entry['participants']} participants, {entry['rounds']} "
           f"rounds, {entry['cpus']} CPUs, torch {entry['torch']}."), ""]
    rows = [[WAY_NAMES.get(way, way), r["seconds_per_round"], r["seconds_per_round_after_first"],
             r["startup_s"], r["total_s"], r["accuracy"], r["auc"]]
            for way, r in results.items()]
    out += _table(["way", "s/round", "s/round after round 1", "start-up s", "total s",
                   "accuracy", "AUC"], rows)
    ratios = entry.get("ratios", {})
    after = entry.get("ratios_after_first_round", {})
    if ratios:
        out += _table(["ratio (s/round)", "all rounds", "after round 1"],
                      [[k, v, after.get(k)] for k, v in ratios.items()])
    if "fedledger_equals_plain_bit_for_bit" in entry:
        out += [(f"fedledger's final model equals (a)'s byte for byte: "
                f"**{entry['fedledger_equals_plain_bit_for_bit']}** (accuracy gap "
                f"{entry['accuracy_gap_points']} points)."), ""]
    ours = results.get("fedledger", {})
    node_time = ours.get("node_time")
    if node_time:
        per = node_time["per_node_per_round_s"]
        out += [("Where the time goes in (c), per node per round (seconds inside each node "
                f"process, mean of {node_time['nodes']}; start-up "
                f"{node_time['startup_per_node_s']} s per node):"), ""]
        cpu = node_time.get("cpu_split_per_node_per_round_s", {})
        out += _table(["category", "s per node per round", "of which CPU"],
                      [[NODE_TIME_NAMES.get(k, k), v, cpu.get(k)] for k, v in per.items()])
        if "cpu_per_node_per_round_s" in node_time:
            others = ", ".join(f"{k.replace('_', ' ')} {v} s"
                               for k, v in ours.get("cpu_per_round_s", {}).items())
            out += [(f"CPU per round: each node {node_time['cpu_per_node_per_round_s']} s "
                     f"(all threads, after start-up); {others}."), ""]
    walls = ours.get("chain_phase_wall_s")
    if walls:
        out += ["Wall time of (c) by on-chain phase (all rounds):", ""]
        out += _table(["phase", "seconds"], [[k, v] for k, v in walls.items()])
    return out


def render_scale(entry: dict[str, Any]) -> list[str]:
    cohort = entry.get("cohort", 0)
    out = [(f"## Scale: one round at N participants (`scripts/bench_scale.py`, "
           f"{entry['_file']})"), "",
           (f"Model {entry['model']}, committee {entry['committee']}, quorum "
            f"{entry['quorum']}, locally signed transactions sent in batches"
            + (f", a cohort of {cohort} trainers per round." if cohort else ".")), ""]
    rows = []
    for r in entry["results"]:
        mem = r["committee_memory"]
        rows.append([r["participants"], r.get("trainers", r["participants"]), r.get("round_gas"),
                     r["gas"]["join_median"], r["gas"]["submitUpdate_median"],
                     r["seconds"]["per_submission"], r["seconds"]["committee_compute_round"],
                     mem["tracemalloc_peak_updates"],
                     mem.get("streaming_tracemalloc_peak_updates"), r["round_finalized"]])
    out += _table(["N", "trainers", "round gas", "join gas", "submitUpdate gas",
                   "s per submission", "committee compute s", "committee peak (updates)",
                   "streamed peak (updates)", "finalized"], rows)
    span = (f"N = {entry['growth_from']:,} -> {entry['growth_to']:,}" if "growth_from" in entry
            else "smallest -> largest N")
    out += [(f"Gas growth {span}: {entry['gas_growth_smallest_to_largest']}; "
            f"flat within 5%: **{entry['goal_gas_flat_within_5pct']}**. Committee memory "
            f"O(1) models: **{entry['goal_committee_memory_o1_models']}** (growth "
            f"{entry['committee_memory_growth_smallest_to_largest']}x as is, "
            f"{entry.get('streaming_committee_memory_growth_smallest_to_largest')}x streamed)."),
            ""]
    return out


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = []
        for key, sub in value.items():
            items += _flatten(sub, f"{prefix}.{key}" if prefix else str(key))
        return items
    return [(prefix, json.dumps(value) if isinstance(value, list) else value)]


def render_generic(entry: dict[str, Any]) -> list[str]:
    body = {k: v for k, v in entry.items() if k not in ("bench", "_file")}
    out = [f"## {entry['bench']} ({entry['_file']})", ""]
    return out + _table(["key", "value"], [[k, v] for k, v in _flatten(body)])


def render(results: list[dict[str, Any]]) -> str:
    lines = ["# Benchmarks", "",
             ("Generated by `scripts/render_bench.py` from `bench/results/*.json` (one JSON "
             "line per `scripts/bench_*.py` run). Do not edit by hand."), ""]
    for entry in results:
        kind = entry.get("bench")
        if kind == "round":
            lines += render_round(entry)
        elif kind == "scale":
            lines += render_scale(entry)
        else:
            lines += render_generic(entry)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "README.md")
    args = parser.parse_args(argv)
    args.out.write_text(render(load_results(args.results)))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
