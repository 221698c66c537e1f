"""Learning quality benchmark: prints ONE JSON line.

Sections (all seeded; every number comes from this run):

* ``shoppers``: 9 shops split by Region, 20 rounds of FedAvg (logreg) vs centralized
  training of the same model on the pooled training rows for the same number of epochs,
  both evaluated on the pooled held-out rows.
* ``digits``: Dirichlet(0.5) over 10 participants (MLP), same comparison.
* ``robust``: digits Dirichlet(0.5), 30% attackers (sign flip x10; label flip): each
  rule's final accuracy next to the clean FedAvg run.
* ``personalization``: digits Dirichlet(0.1), mean local test accuracy of the global
  model vs each participant's fine-tuned copy.

Goals (from issue 4) are checked and reported under ``goals`` with the miss, if any.

Usage: .venv/bin/python scripts/bench_learning.py [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from typing import Any

import numpy as np
import torch

from node.data.datasets import ClientData, TensorData
from node.learning.personalize import personalize
from node.learning.task import hyper_of, model_of, model_weights
from node.learning.train import evaluate, train_local
from node.requester.presets import preset_manifest
from node.seeds import derive_seed
from node.sim.setup import SimulationSetup, build_clients, choose_attackers
from node.sim.simulate import run_simulation

ROBUST_RULES: dict[str, dict[str, Any]] = {
    "median": {},
    "trimmed_mean": {"trim_fraction": 0.3},
    "krum": {"byzantine": 3},
    "multikrum": {"byzantine": 3},
}


def _pooled(clients: list[ClientData], part: str) -> TensorData:
    sets = [getattr(c, part) for c in clients if len(getattr(c, part)) > 0]
    return TensorData(torch.cat([s.x for s in sets]), torch.cat([s.y for s in sets]))


def fed_vs_central(manifest, setup: SimulationSetup) -> dict[str, Any]:
    """FedAvg's final pooled-test metrics next to centralized training, same epochs."""
    clients = build_clients(manifest, setup)
    started = time.perf_counter()
    fed = run_simulation(manifest, clients, evaluate_every=manifest.rounds)
    fed_seconds = time.perf_counter() - started
    model = model_of(manifest)
    hyper = dataclasses.replace(hyper_of(manifest),
                                epochs=manifest.rounds * manifest.local_epochs)
    started = time.perf_counter()
    train_local(model, model.state_dict(), _pooled(clients, "train"), hyper,
                derive_seed(manifest.seed, "centralized"))
    central = evaluate(model, _pooled(clients, "test"))
    final = fed.rounds[-1]["eval"]
    return {
        "participants": len(clients), "rounds": manifest.rounds,
        "epochs": manifest.rounds * manifest.local_epochs, "test_rows": central.n,
        "fedavg_accuracy": round(final["accuracy"], 4),
        "central_accuracy": round(central.accuracy, 4),
        "fedavg_auc": None if final["auc"] is None else round(final["auc"], 4),
        "central_auc": None if central.auc is None else round(central.auc, 4),
        "fedavg_seconds": round(fed_seconds, 1),
        "central_seconds": round(time.perf_counter() - started, 1),
        "final_cid": fed.final_cid,
    }


def robust(manifest, setup: SimulationSetup) -> dict[str, Any]:
    """Final accuracy of each rule under each attack, and of clean FedAvg."""
    clients = build_clients(manifest, setup)
    ids = [c.client_id for c in clients]
    last = manifest.rounds

    def accuracy(rule: str, params: dict[str, Any], attacks) -> float:
        task = dataclasses.replace(manifest, aggregation=rule, aggregation_params=params)
        result = run_simulation(task, clients, attacks=attacks, evaluate_every=last)
        return round(result.rounds[-1]["eval"]["accuracy"], 4)

    out: dict[str, Any] = {"clean_fedavg": accuracy("fedavg", {}, None)}
    for attack in ("sign_flip", "label_flip"):
        attacks = choose_attackers(manifest, dataclasses.replace(
            setup, attack=attack, attacker_fraction=0.3), ids)
        row = {"attackers": sorted(attacks), "fedavg": accuracy("fedavg", {}, attacks)}
        for rule, params in ROBUST_RULES.items():
            row[rule] = accuracy(rule, params, attacks)
        out[attack] = row
    return out


def personalization(manifest, setup: SimulationSetup, fine_tune_epochs: int) -> dict[str, Any]:
    """Mean local test accuracy of the global model vs fine-tuned copies."""
    clients = build_clients(manifest, setup)
    fed = run_simulation(manifest, clients, evaluate_every=manifest.rounds)
    weights = model_weights(manifest, fed.final_model_bytes)
    global_acc, personal_acc = [], []
    for client in clients:
        if len(client.test) == 0:
            continue
        result = personalize(manifest, weights, client, dataclasses.replace(
            manifest.personalization, epochs=fine_tune_epochs, lr_scale=1.0, proximal_mu=0.0),
            seed=derive_seed(manifest.seed, "personalize", client.client_id))
        global_acc.append(result.global_metrics.accuracy)
        personal_acc.append(result.personal_metrics.accuracy)
    return {
        "participants": len(global_acc), "fine_tune_epochs": fine_tune_epochs,
        "mean_global_accuracy": round(float(np.mean(global_acc)), 4),
        "mean_personalized_accuracy": round(float(np.mean(personal_acc)), 4),
        "improved_participants": int(sum(p > g for p, g in zip(personal_acc, global_acc,
                                                                  strict=True))),
        "worse_participants": int(sum(p < g for p, g in zip(personal_acc, global_acc,
                                                               strict=True))),
    }


def goals(report: dict[str, Any]) -> dict[str, Any]:
    shop, dig, rob = report["shoppers"], report["digits"], report["robust"]
    acc_gap_shop = round(shop["central_accuracy"] - shop["fedavg_accuracy"], 4)
    auc_gap_shop = round(shop["central_auc"] - shop["fedavg_auc"], 4)
    acc_gap_dig = round(dig["central_accuracy"] - dig["fedavg_accuracy"], 4)
    robust_gaps = {}
    for attack in ("sign_flip", "label_flip"):
        best_rule = max(ROBUST_RULES, key=lambda r: rob[attack][r])
        robust_gaps[attack] = {
            "best_rule": best_rule,
            "gap_to_clean": round(rob["clean_fedavg"] - rob[attack][best_rule], 4),
            "fedavg_drop": round(rob["clean_fedavg"] - rob[attack]["fedavg"], 4),
        }
    pers = report["personalization"]
    gain = round(pers["mean_personalized_accuracy"] - pers["mean_global_accuracy"], 4)
    return {
        "shoppers_fedavg_within_1pt": acc_gap_shop <= 0.01, "shoppers_acc_gap": acc_gap_shop,
        "shoppers_fedavg_within_0.01_auc": auc_gap_shop <= 0.01, "shoppers_auc_gap": auc_gap_shop,
        "digits_fedavg_within_1pt": acc_gap_dig <= 0.01, "digits_acc_gap": acc_gap_dig,
        "robust": robust_gaps,
        "robust_within_2pt": all(g["gap_to_clean"] <= 0.02 for g in robust_gaps.values()),
        "personalization_gain": gain, "personalization_raises_accuracy": gain > 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke run)")
    args = parser.parse_args(argv)
    scale = 4 if args.quick else 1
    started = time.perf_counter()
    shoppers = preset_manifest("shoppers", rounds=20 // scale)
    digits = preset_manifest("digits", rounds=30 // scale)
    dirichlet = SimulationSetup(partition="dirichlet", alpha=0.5, n_clients=10)
    robust_task = dataclasses.replace(digits, rounds=15 // scale, local_epochs=5)
    report: dict[str, Any] = {
        "bench": "learning",
        "torch": torch.__version__,
        "shoppers": fed_vs_central(shoppers, SimulationSetup(partition="natural")),
        "digits": fed_vs_central(digits, dirichlet),
        "robust": {"rounds": robust_task.rounds, "local_epochs": robust_task.local_epochs,
                   **robust(robust_task, dirichlet)},
        "personalization": personalization(
            dataclasses.replace(digits, rounds=15 // scale, local_epochs=5),
            dataclasses.replace(dirichlet, alpha=0.1), fine_tune_epochs=5),
    }
    report["goals"] = goals(report)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
