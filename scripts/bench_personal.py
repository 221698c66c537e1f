"""Personal models of the demo's shops: does each shop's fine-tuned copy beat the global model
on its own held-out rows? Prints ONE JSON line.

The demo's task (shoppers preset, 9 shops split by Region, its rounds) is simulated to its final
global model. The personalization settings are chosen the way a shop could choose them itself,
without looking at its held-out rows: each shop's *training* rows are split 80/20 (seeded), every
candidate of the grid is fine-tuned on the 80% and scored on the 20%, and the candidate that
lowers the validation log loss for the most shops (ties: the lowest mean loss) wins. Only then is
the winner fine-tuned on all training rows and compared with the global model on the held-out
rows, per shop: log loss (what training minimises; a proper scoring rule), accuracy at 0.5 and
AUC. ``chosen`` is what the manifest default (``ledger.manifest.Personalization``) should be.

Usage: .venv/bin/python scripts/bench_personal.py [--rounds N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys

import torch

from ledger.manifest import Personalization
from node.data.datasets import ClientData, TensorData
from node.data.split import DataSplit, build_clients
from node.learning.personalize import personalize
from node.learning.task import model_weights
from node.requester.presets import preset_manifest
from node.seeds import derive_seed
from node.sim.simulate import run_simulation

GRID = {"epochs": (1, 3, 10), "lr_scale": (1.0, 0.2), "proximal_mu": (0.0, 0.1, 1.0)}


def _split(client: ClientData, seed: int) -> ClientData:
    """The shop's training rows as 80% fit / 20% validation (its held-out rows untouched)."""
    n = len(client.train)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    cut = n - max(n // 5, 1)
    fit, val = order[:cut], order[cut:]
    t = client.train
    return ClientData(client.client_id, TensorData(t.x[fit], t.y[fit]),
                      TensorData(t.x[val], t.y[val]))


def _row(manifest, weights, client: ClientData, settings: Personalization) -> dict:
    r = personalize(manifest, weights, client, settings,
                    seed=derive_seed(manifest.seed, "personalize", client.client_id))
    g, p = r.global_metrics, r.personal_metrics
    return {"shop": client.client_id, "train_rows": len(client.train),
            "test_rows": len(client.test),
            "global": {"loss": round(g.loss, 5), "accuracy": round(g.accuracy, 4),
                       "auc": None if g.auc is None else round(g.auc, 4)},
            "personal": {"loss": round(p.loss, 5), "accuracy": round(p.accuracy, 4),
                         "auc": None if p.auc is None else round(p.auc, 4)},
            "loss_better": p.loss < g.loss, "accuracy_better": p.accuracy > g.accuracy,
            "auc_better": g.auc is not None and p.auc is not None and p.auc > g.auc}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    manifest = preset_manifest("shoppers", privacy="open", dp=None,
                               **({"rounds": args.rounds} if args.rounds else {}))
    clients = build_clients(manifest, DataSplit(partition="natural", column="Region"))
    weights = model_weights(manifest, run_simulation(
        manifest, clients, evaluate_every=manifest.rounds).final_model_bytes)
    holdout = [_split(c, derive_seed(manifest.seed, "validation", c.client_id)) for c in clients]
    candidates = []
    for epochs, lr_scale, mu in itertools.product(*GRID.values()):
        settings = Personalization(mode="finetune", epochs=epochs, lr_scale=lr_scale,
                                   proximal_mu=mu)
        rows = [_row(manifest, weights, c, settings) for c in holdout]
        better = sum(r["loss_better"] for r in rows)
        mean = sum(r["personal"]["loss"] - r["global"]["loss"] for r in rows) / len(rows)
        candidates.append({"epochs": epochs, "lr_scale": lr_scale, "proximal_mu": mu,
                           "validation_loss_better": better,
                           "validation_mean_loss_change": round(mean, 6)})
    best = max(candidates, key=lambda c: (c["validation_loss_better"],
                                          -c["validation_mean_loss_change"]))
    chosen = Personalization(mode="finetune", epochs=best["epochs"], lr_scale=best["lr_scale"],
                             proximal_mu=best["proximal_mu"])
    shops = [_row(manifest, weights, c, chosen) for c in clients]
    default = Personalization()
    print(json.dumps({
        "bench": "personal", "task": "shoppers", "shops": len(clients),
        "rounds": manifest.rounds, "grid": candidates,
        "chosen": {"epochs": chosen.epochs, "lr_scale": chosen.lr_scale,
                   "proximal_mu": chosen.proximal_mu},
        "manifest_default_is_chosen": default == chosen,
        "per_shop": shops,
        "held_out_loss_better": sum(r["loss_better"] for r in shops),
        "held_out_accuracy_better": sum(r["accuracy_better"] for r in shops),
        "held_out_auc_better": sum(r["auc_better"] for r in shops),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
