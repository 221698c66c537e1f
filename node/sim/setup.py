"""Simulation set-up: how the pooled data is split (:class:`node.data.split.DataSplit`)
and who attacks.

This is simulator-only configuration, kept apart from the task manifest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ledger.manifest import TaskManifest
from node.data.split import DataSplit, build_clients, load_pooled, partition_rows
from node.seeds import derive_seed
from node.sim.attacks import Attack

__all__ = [
    "SimulationSetup",
    "build_clients",
    "choose_attackers",
    "load_pooled",
    "partition_rows",
]


@dataclass(frozen=True)
class SimulationSetup(DataSplit):
    """A :class:`DataSplit` plus who misbehaves.

    Attributes:
        attack: ``None``, ``"sign_flip"`` or ``"label_flip"``.
        attacker_fraction: share of participants that attack (rounded, seeded choice).
        attack_factor: sign-flip magnitude.
    """

    attack: str | None = None
    attacker_fraction: float = 0.0
    attack_factor: float = 10.0


def choose_attackers(manifest: TaskManifest, setup: SimulationSetup,
                     client_ids: list[str]) -> dict[str, Attack]:
    """A seeded choice of ``round(fraction * n)`` attackers (halves up) with the setup's attack."""
    if setup.attack is None or setup.attacker_fraction <= 0:
        return {}
    count = min(len(client_ids), int(setup.attacker_fraction * len(client_ids) + 0.5))
    rng = np.random.default_rng(derive_seed(manifest.seed, "attackers"))
    chosen = sorted(rng.choice(len(client_ids), size=count, replace=False).tolist())
    attack = Attack(setup.attack, setup.attack_factor)
    return {client_ids[k]: attack for k in chosen}
