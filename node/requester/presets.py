"""Ready-made task manifests for the built-in data sets (simulator, demo, benchmarks).

Chosen so that FedAvg on the natural/Dirichlet splits lands close to centralized
training of the same model (see ``scripts/bench_learning.py``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ledger.manifest import DpSettings, PhaseDurations, TaskManifest
from node.data.schemas import DIGITS_SCHEMA, SHOPPERS_SCHEMA
from node.errors import NodeError

__all__ = ["PRESETS", "distributed_schedule", "preset_manifest"]

_COMMON: dict[str, Any] = {
    "aggregation": "fedavg",
    "max_samples": 100_000,
    "reward_rule": "samples",
    "privacy": "open",
    "committee_size": 3,
    "quorum": 2,
    "phase_durations": PhaseDurations(train=120, commit=30, reveal=30),
    "stake": 10**16,
    "seed": 2024,
    "test_fraction": 0.2,
}

PRESETS: dict[str, dict[str, Any]] = {
    "shoppers": {
        **_COMMON,
        "architecture": "logreg",
        "model_params": {"n_features": SHOPPERS_SCHEMA.n_features, "n_classes": 2},
        "dataset": "shoppers",
        "rounds": 20,
        "local_epochs": 1,
        "batch_size": 32,
        "optimizer": "sgd",
        "lr": 0.1,
    },
    "digits": {
        **_COMMON,
        "architecture": "mlp",
        "model_params": {"n_features": DIGITS_SCHEMA.n_features, "n_classes": 10,
                         "hidden": [64]},
        "dataset": "digits",
        "rounds": 30,
        "local_epochs": 10,
        "batch_size": 16,
        "optimizer": "sgd",
        "lr": 0.1,
    },
}


def preset_manifest(name: str, **overrides: Any) -> TaskManifest:
    """The preset manifest ``name`` with fields replaced by ``overrides``.

    Raises:
        NodeError: unknown preset.
        ManifestError: an override that does not validate.
    """
    if name not in PRESETS:
        raise NodeError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return dataclasses.replace(TaskManifest(**PRESETS[name]), **overrides)


def distributed_schedule(dp: DpSettings | None, max_samples: int) -> dict[str, Any]:
    """Manifest overrides distributed DP needs (``dp.noise_shares > 1``: one full-batch
    plain SGD step per round, see ``node.learning.dp_sgd``); empty otherwise."""
    if dp is None or dp.noise_shares == 1:
        return {}
    return {"local_epochs": 1, "optimizer": "sgd", "batch_size": max_samples}
