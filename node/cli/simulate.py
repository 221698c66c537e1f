"""``fedledger simulate``: a whole federated task in one process, same code paths as nodes.

Examples::

    fedledger simulate --preset shoppers                      # 9 shops by Region
    fedledger simulate --preset digits --partition dirichlet --alpha 0.5 --clients 10
    fedledger simulate --preset digits --aggregation median --attack sign_flip --attackers 0.3
    fedledger simulate --manifest task.json --csv pooled.csv --partition iid --clients 5
    fedledger simulate --preset shoppers --write-shards shards/   # one CSV per participant
    fedledger simulate --preset shoppers --cohort 4               # 4 of the 9 shops per round
    fedledger simulate --preset shoppers --cohort 4 --cohort-seed 0x9d6a... --cohort-seed ...
                                                                  # the chain's draws, round by round

With ``--cohort K`` each round trains only K participants, drawn the way the contract draws a
task's cohort (``ledger.cohort``, participants in join order). The seeds are the chain's
``CohortDrawn`` seeds when given, else derived from the manifest seed. To replay a chain run,
give its seeds and ``--join-order`` (the client ids in the order they joined on chain).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.manifest import AGGREGATION_RULES
from node.data.partition import PARTITIONS
from node.requester.presets import PRESETS
from node.sim.attacks import ATTACK_KINDS

if TYPE_CHECKING:
    from ledger.manifest import TaskManifest
    from node.sim.setup import SimulationSetup

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Adds the ``simulate`` sub-command."""
    p = subparsers.add_parser("simulate", help="run a federated task in one process",
                              description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    source = p.add_mutually_exclusive_group()
    source.add_argument("--preset", choices=sorted(PRESETS), default="shoppers")
    source.add_argument("--manifest", type=Path, help="task manifest JSON file")
    p.add_argument("--csv", help="pooled CSV for a manifest with dataset 'csv'")
    p.add_argument("--partition", choices=PARTITIONS, default=None,
                   help="default: natural by Region for shoppers, dirichlet otherwise")
    p.add_argument("--column", default="Region", help="natural partition column")
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--shards", type=int, default=2, help="label shards per client")
    p.add_argument("--rounds", type=int, help="override the manifest's rounds")
    p.add_argument("--aggregation", choices=AGGREGATION_RULES, help="override the rule")
    p.add_argument("--attack", choices=ATTACK_KINDS)
    p.add_argument("--attackers", type=float, default=0.0, help="fraction of attackers")
    p.add_argument("--cohort", type=int, default=0, metavar="K",
                   help="train only K drawn participants per round (0: all)")
    p.add_argument("--cohort-seed", action="append", default=[], metavar="HEX",
                   help="round r's 32-byte cohort seed (repeat, in round order)")
    p.add_argument("--join-order", metavar="ID,ID,...",
                   help="the participants' client ids in on-chain join order (cohort indices)")
    p.add_argument("--log", type=Path, help="write the JSON log here")
    p.add_argument("--write-shards", type=Path, metavar="DIR",
                   help="write each participant's rows to DIR/<id>.csv and exit")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _manifest(args: argparse.Namespace) -> TaskManifest:
    from ledger.manifest import TaskManifest
    from node.requester.presets import preset_manifest

    if args.manifest is not None:
        manifest = TaskManifest.from_json_bytes(args.manifest.read_bytes())
    else:
        manifest = preset_manifest(args.preset)
    overrides: dict[str, Any] = {}
    if args.rounds is not None:
        overrides["rounds"] = args.rounds
    if args.aggregation is not None:
        overrides["aggregation"] = args.aggregation
    return dataclasses.replace(manifest, **overrides) if overrides else manifest


def _setup(args: argparse.Namespace, manifest: TaskManifest) -> SimulationSetup:
    from node.sim.setup import SimulationSetup

    partition = args.partition or ("natural" if manifest.dataset == "shoppers" else "dirichlet")
    return SimulationSetup(partition=partition, column=args.column, n_clients=args.clients,
                           alpha=args.alpha, shards_per_client=args.shards, csv_path=args.csv,
                           attack=args.attack, attacker_fraction=args.attackers)


def _cohort(args: argparse.Namespace, manifest: TaskManifest, n_clients: int):
    """The run's cohort draw (None: everyone trains every round)."""
    from node.cli.errors import CliError
    from node.seeds import derive_seed
    from node.sim.simulate import sampled_cohorts

    if args.cohort < 0:
        raise CliError(f"simulate: --cohort must be >= 0, not {args.cohort}")
    if args.cohort == 0:
        if args.cohort_seed:
            raise CliError("simulate: --cohort-seed needs --cohort K")
        return None
    try:
        given = [bytes.fromhex(h.removeprefix("0x")) for h in args.cohort_seed]
    except ValueError as err:
        raise CliError(f"simulate: a --cohort-seed is not hex: {err}") from err
    if any(len(seed) != 32 for seed in given):
        raise CliError("simulate: a --cohort-seed is 32 bytes (64 hex digits)")
    if given and len(given) != manifest.rounds:
        raise CliError(f"simulate: {len(given)} --cohort-seed values for {manifest.rounds} rounds")

    def seed_of(round_index: int) -> bytes:
        if given:
            return given[round_index - 1]
        return derive_seed(manifest.seed, "cohort", round_index).to_bytes(32, "big")

    return sampled_cohorts(n_clients, args.cohort, seed_of)


def _in_join_order(clients: list, join_order: str | None) -> list:
    from node.cli.errors import CliError

    if join_order is None:
        return clients
    by_id = {c.client_id: c for c in clients}
    order = join_order.split(",")
    if sorted(order) != sorted(by_id):
        raise CliError(f"simulate: --join-order must name each of {sorted(by_id)} once")
    return [by_id[i] for i in order]


def _progress(total: int, enabled: bool):
    def show(entry: dict[str, Any]) -> None:
        if not enabled:
            return
        done = entry["round"]
        bar = "#" * (20 * done // total) + "." * (20 - 20 * done // total)
        ev = entry.get("eval", {})
        auc = f" auc={ev['auc']:.4f}" if ev.get("auc") is not None else ""
        acc = f" acc={ev['accuracy']:.4f} loss={ev['loss']:.4f}" if ev else ""
        print(f"[{bar}] round {done}/{total}{acc}{auc} rejected={entry['rejected']} "
              f"{entry['seconds']:.2f}s", file=sys.stderr, flush=True)
    return show


def run(args: argparse.Namespace) -> int:
    """Runs the sub-command; returns the process exit code."""
    from node.cli.errors import CliError
    from node.data.datasets import write_shards
    from node.seeds import derive_seed
    from node.sim.setup import build_clients, choose_attackers, load_pooled, partition_rows
    from node.sim.simulate import run_simulation

    try:
        manifest = _manifest(args)
        setup = _setup(args, manifest)
        if args.write_shards is not None:
            table, schema = load_pooled(manifest, setup)
            parts = partition_rows(table, schema, setup, derive_seed(manifest.seed, "partition"))
            for cid, path in write_shards(table, parts, args.write_shards).items():
                print(f"{cid} {len(parts[cid])} rows -> {path}")
            return 0
        clients = _in_join_order(build_clients(manifest, setup), args.join_order)
        attacks = choose_attackers(manifest, setup, [c.client_id for c in clients])
        print(f"task: {manifest.architecture} on {manifest.dataset}, {len(clients)} participants "
              f"({setup.partition}), rule {manifest.aggregation}, {manifest.rounds} rounds"
              + (f", attackers {sorted(attacks)} ({setup.attack})" if attacks else ""),
              file=sys.stderr)
        result = run_simulation(manifest, clients, attacks=attacks,
                                on_round=_progress(manifest.rounds, not args.quiet),
                                cohort=_cohort(args, manifest, len(clients)))
    except OSError as err:  # an unreadable manifest or CSV: the user's to fix
        raise CliError(f"simulate: {err}") from err
    if args.log is not None:
        log = {"manifest": manifest.to_dict(), "setup": dataclasses.asdict(setup),
               "attackers": sorted(attacks), **result.log()}
        args.log.write_text(json.dumps(log, indent=2, sort_keys=True) + "\n")
    final = result.rounds[-1].get("eval", {})
    print(json.dumps({"final_cid": result.final_cid, "accuracy": final.get("accuracy"),
                      "auc": final.get("auc")}))
    return 0
