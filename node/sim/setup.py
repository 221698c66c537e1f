"""Simulation set-up: which pooled table, how it is split, who attacks.

This is simulator-only configuration (a real participant just has its own CSV), kept
apart from the task manifest. Each participant's rows are taken from the pooled table
in their original order and encoded on their own, exactly as
``node.data.datasets.load_participant_csv`` does for a shard written by ``write_shards``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ledger.manifest import TaskManifest
from node.sim.attacks import Attack
from node.data.datasets import (
    ClientData,
    Table,
    builtin_dataset,
    client_data_from_table,
    read_csv_table,
)
from node.data.partition import (
    dirichlet_partition,
    iid_partition,
    natural_partition,
    shard_partition,
)
from node.data.preprocess import DataError, DataSchema, encode_rows
from node.seeds import derive_seed

__all__ = [
    "PARTITIONS",
    "SimulationSetup",
    "build_clients",
    "choose_attackers",
    "load_pooled",
    "partition_rows",
]

PARTITIONS = ("dirichlet", "iid", "natural", "shards")


@dataclass(frozen=True)
class SimulationSetup:
    """How the simulator splits the pooled data and who misbehaves.

    Attributes:
        partition: ``"natural"`` (by ``column``), ``"iid"``, ``"dirichlet"`` or ``"shards"``.
        column: the natural partition column (``Region`` for shoppers: 9 shops).
        n_clients: participants for the synthetic partitions.
        alpha: Dirichlet concentration.
        shards_per_client: label shards per participant (pathological split).
        csv_path: the pooled table for ``dataset == "csv"``.
        attack: ``None``, ``"sign_flip"`` or ``"label_flip"``.
        attacker_fraction: share of participants that attack (rounded, seeded choice).
        attack_factor: sign-flip magnitude.

    Raises:
        DataError: unknown partition.
    """

    partition: str = "natural"
    column: str = "Region"
    n_clients: int = 10
    alpha: float = 0.5
    shards_per_client: int = 2
    csv_path: str | None = None
    attack: str | None = None
    attacker_fraction: float = 0.0
    attack_factor: float = 10.0

    def __post_init__(self) -> None:
        if self.partition not in PARTITIONS:
            raise DataError(f"unknown partition {self.partition!r}; choose from {PARTITIONS}")


def load_pooled(manifest: TaskManifest, setup: SimulationSetup) -> tuple[Table, DataSchema]:
    """The pooled table and schema the manifest's data set names.

    Raises:
        DataError: a ``csv`` task without ``setup.csv_path``, or an unreadable table.
    """
    if manifest.dataset == "csv":
        if setup.csv_path is None:
            raise DataError("dataset 'csv' needs a pooled CSV path to simulate")
        assert manifest.data_schema is not None  # the manifest enforces it for csv
        return read_csv_table(Path(setup.csv_path)), DataSchema.from_mapping(manifest.data_schema)
    return builtin_dataset(manifest.dataset, manifest.data_schema)


def partition_rows(table: Table, schema: DataSchema, setup: SimulationSetup,
                   seed: int) -> dict[str, np.ndarray]:
    """Row indices of each participant under ``setup.partition``.

    Raises:
        DataError: from the partitioner (e.g. too few rows).
    """
    if setup.partition == "natural":
        return natural_partition(table.column(setup.column), prefix=f"{setup.column.lower()}-")
    if setup.partition == "iid":
        return iid_partition(len(table), setup.n_clients, seed=seed)
    _, labels = encode_rows(table.header, table.rows, schema)
    if setup.partition == "dirichlet":
        return dirichlet_partition(labels, setup.n_clients, alpha=setup.alpha, seed=seed,
                                   min_size=2)
    return shard_partition(labels, setup.n_clients, shards_per_client=setup.shards_per_client,
                           seed=seed)


def build_clients(manifest: TaskManifest, setup: SimulationSetup) -> list[ClientData]:
    """Every participant's encoded and locally split data, in client-id order."""
    table, schema = load_pooled(manifest, setup)
    parts = partition_rows(table, schema, setup, derive_seed(manifest.seed, "partition"))
    return [client_data_from_table(cid, table.take(rows), schema,
                                   test_fraction=manifest.test_fraction, task_seed=manifest.seed)
            for cid, rows in parts.items()]


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
