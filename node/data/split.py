"""Splitting one pooled table among participants: the simulator's, the demo's and the
benchmarks' way of giving each participant its own rows (a real participant just has
its own CSV).

Each participant's rows are taken from the pooled table in their original order and
encoded on their own, exactly as ``node.data.datasets.load_participant_csv`` does for a
shard written by ``write_shards``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ledger.manifest import TaskManifest
from node.data.datasets import (
    ClientData,
    Table,
    builtin_dataset,
    client_data_from_table,
    read_csv_table,
)
from node.data.partition import (
    PARTITIONS,
    dirichlet_partition,
    iid_partition,
    natural_partition,
    shard_partition,
)
from node.data.preprocess import DataError, DataSchema, encode_rows
from node.seeds import derive_seed

__all__ = ["DataSplit", "build_clients", "load_pooled", "partition_rows"]

@dataclass(frozen=True)
class DataSplit:
    """How one pooled table is split among participants (simulator, demo, benchmarks).

    Attributes:
        partition: ``"natural"`` (by ``column``), ``"iid"``, ``"dirichlet"`` or ``"shards"``.
        column: the natural partition column (``Region`` for shoppers: 9 shops).
        n_clients: participants for the synthetic partitions.
        alpha: Dirichlet concentration.
        shards_per_client: label shards per participant (pathological split).
        csv_path: the pooled table for ``dataset == "csv"``.

    Raises:
        DataError: unknown partition.
    """

    partition: str = "natural"
    column: str = "Region"
    n_clients: int = 10
    alpha: float = 0.5
    shards_per_client: int = 2
    csv_path: str | None = None

    def __post_init__(self) -> None:
        if self.partition not in PARTITIONS:
            raise DataError(f"unknown partition {self.partition!r}; choose from {PARTITIONS}")


def load_pooled(manifest: TaskManifest, split: DataSplit) -> tuple[Table, DataSchema]:
    """The pooled table and schema the manifest's data set names.

    Raises:
        DataError: a ``csv`` task without ``split.csv_path``, or an unreadable table.
    """
    if manifest.dataset == "csv":
        if split.csv_path is None:
            raise DataError("dataset 'csv' needs a pooled CSV path to simulate")
        assert manifest.data_schema is not None  # the manifest enforces it for csv
        return read_csv_table(Path(split.csv_path)), DataSchema.from_mapping(manifest.data_schema)
    return builtin_dataset(manifest.dataset, manifest.data_schema)


def partition_rows(table: Table, schema: DataSchema, split: DataSplit,
                   seed: int) -> dict[str, np.ndarray]:
    """Row indices of each participant under ``split.partition``.

    Raises:
        DataError: from the partitioner (e.g. too few rows).
    """
    if split.partition == "natural":
        return natural_partition(table.column(split.column), prefix=f"{split.column.lower()}-")
    if split.partition == "iid":
        return iid_partition(len(table), split.n_clients, seed=seed)
    _, labels = encode_rows(table.header, table.rows, schema)
    if split.partition == "dirichlet":
        return dirichlet_partition(labels, split.n_clients, alpha=split.alpha, seed=seed,
                                   min_size=2)
    return shard_partition(labels, split.n_clients, shards_per_client=split.shards_per_client,
                           seed=seed)


def build_clients(manifest: TaskManifest, split: DataSplit) -> list[ClientData]:
    """Every participant's encoded and locally split data, in client-id order."""
    table, schema = load_pooled(manifest, split)
    parts = partition_rows(table, schema, split, derive_seed(manifest.seed, "partition"))
    return [client_data_from_table(cid, table.take(rows), schema,
                                   test_fraction=manifest.test_fraction, task_seed=manifest.seed)
            for cid, rows in parts.items()]
