"""Data sets as raw string tables, their schemas, and participant tensors.

Every data source (the shipped shoppers CSV, scikit-learn's digits, a user CSV, one
participant's shard CSV) becomes a ``Table`` of raw strings first. Features come from
``node.data.preprocess.encode_rows`` on the participant's own rows only, and the local
train/test split is seeded by the task seed and the participant id. So the simulator
(which takes a participant's rows out of the pooled table) and that participant's node
process (which reads the same rows from its own CSV written by ``write_shards``) get
identical tensors, bit for bit.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from node.data.preprocess import (
    DataError,
    DataSchema,
    encode_rows,
)
from node.data.schemas import DIGITS_SCHEMA, SHOPPERS_FILE, SHOPPERS_SCHEMA
from node.errors import NodeError
from node.seeds import derive_seed

__all__ = [
    "ClientData",
    "Table",
    "TensorData",
    "builtin_dataset",
    "client_data_from_table",
    "held_out_table",
    "load_digits_table",
    "load_participant_csv",
    "load_shoppers_table",
    "read_csv_table",
    "split_train_test",
    "write_csv_table",
    "write_shards",
]

@dataclass(frozen=True)
class Table:
    """Raw rows of strings under a header: what a CSV holds, nothing parsed yet."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[str]:
        """The raw values of one column.

        Raises:
            DataError: no such column.
        """
        if name not in self.header:
            raise DataError(f"column {name!r} not in table")
        j = self.header.index(name)
        return [row[j] for row in self.rows]

    def take(self, indices: Sequence[int] | np.ndarray) -> Table:
        """The rows at ``indices``, in that order."""
        return Table(self.header, tuple(self.rows[int(i)] for i in indices))


@dataclass(frozen=True)
class TensorData:
    """Features ``x`` (float32 [n, d]) and class indices ``y`` (int64 [n])."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])


@dataclass(frozen=True)
class ClientData:
    """One participant's local data, already split into train and held-out test."""

    client_id: str
    train: TensorData
    test: TensorData


def read_csv_table(path: str | Path) -> Table:
    """Reads a CSV with a header row into a ``Table`` (cells kept as written).

    Raises:
        DataError: unreadable file, empty file or ragged rows.
    """
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            rows = [tuple(row) for row in reader if row]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"cannot read CSV {path}: {err}") from err
    if not header:
        raise DataError(f"CSV {path} has no header row")
    for k, row in enumerate(rows):
        if len(row) != len(header):
            raise DataError(f"CSV {path} row {k + 2}: {len(row)} cells, header has {len(header)}")
    return Table(tuple(header), tuple(rows))


def write_csv_table(path: str | Path, table: Table) -> None:
    """Writes a table so that ``read_csv_table`` gives it back unchanged."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(table.header)
        writer.writerows(table.rows)


def load_shoppers_table() -> Table:
    """The shipped UCI Online Shoppers Purchasing Intention table (12,330 rows)."""
    with resources.as_file(resources.files("node") / "data" / SHOPPERS_FILE) as path:
        return read_csv_table(path)


def load_digits_table() -> Table:
    """scikit-learn's 8x8 digits (1,797 rows) as a table: ``pixel_0..63`` and ``digit``."""
    from sklearn.datasets import load_digits  # ships inside scikit-learn: no download

    bunch = load_digits()
    header = (*(f"pixel_{i}" for i in range(64)), "digit")
    rows = tuple(
        (*(str(int(v)) for v in image), str(int(target)))
        for image, target in zip(bunch.data, bunch.target, strict=True)
    )
    return Table(header, rows)


def builtin_dataset(name: str, schema: Mapping | None = None) -> tuple[Table, DataSchema]:
    """A named built-in data set and its schema (``schema`` overrides the default).

    Raises:
        DataError: unknown name (``"csv"`` data sets are loaded per participant instead).
    """
    loaders = {"shoppers": (load_shoppers_table, SHOPPERS_SCHEMA),
               "digits": (load_digits_table, DIGITS_SCHEMA)}
    if name not in loaders:
        raise DataError(f"no built-in data set {name!r}; choose from {sorted(loaders)}")
    loader, default = loaders[name]
    return loader(), (DataSchema.from_mapping(schema) if schema is not None else default)


def split_train_test(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded split of ``range(n)`` into sorted train and test indices.

    ``round(n * test_fraction)`` rows are held out, at least one when ``n >= 2`` and
    ``test_fraction > 0``, and at least one row always stays for training.

    Raises:
        DataError: ``test_fraction`` outside [0, 1).
    """
    if not 0.0 <= test_fraction < 1.0:
        raise DataError(f"test_fraction must be in [0, 1), got {test_fraction}")
    n_test = round(n * test_fraction)
    if test_fraction > 0 and n >= 2:
        n_test = max(1, n_test)
    n_test = min(n_test, max(n - 1, 0))
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def client_data_from_table(client_id: str, table: Table, schema: DataSchema, *,
                           test_fraction: float, task_seed: int) -> ClientData:
    """Encodes one participant's rows and splits them with its own derived seed.

    Raises:
        DataError: rows that do not fit the schema, or no rows at all.
    """
    if len(table) == 0:
        raise DataError(f"participant {client_id!r} has no rows")
    x, y = encode_rows(table.header, table.rows, schema)
    train_idx, test_idx = split_train_test(len(table), test_fraction,
                                           derive_seed(task_seed, "split", client_id))
    return ClientData(
        client_id=client_id,
        train=TensorData(torch.from_numpy(x[train_idx]), torch.from_numpy(y[train_idx])),
        test=TensorData(torch.from_numpy(x[test_idx]), torch.from_numpy(y[test_idx])),
    )


def held_out_table(client_id: str, table: Table, *, test_fraction: float,
                   task_seed: int) -> Table:
    """The raw rows of ``table`` that participant ``client_id`` holds out for evaluation
    (exactly ``client_data_from_table``'s test rows): what an evaluation may use without
    scoring a model on rows it was trained on."""
    _, test_idx = split_train_test(len(table), test_fraction,
                                   derive_seed(task_seed, "split", client_id))
    return table.take(test_idx)


def write_shards(table: Table, parts: Mapping[str, Sequence[int] | np.ndarray],
                 directory: str | Path) -> dict[str, Path]:
    """Writes each participant's rows to ``directory/<client_id>.csv``.

    Raises:
        NodeError: a client id that is not a safe file name.
    """
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for client_id, indices in parts.items():
        if not client_id or "/" in client_id or client_id.startswith("."):
            raise NodeError(f"client id {client_id!r} is not a safe file name")
        path = out_dir / f"{client_id}.csv"
        write_csv_table(path, table.take(indices))
        paths[client_id] = path
    return paths


def load_participant_csv(path: str | Path, schema: DataSchema, *, client_id: str,
                         test_fraction: float, task_seed: int) -> ClientData:
    """A node process's view of its own data: identical to the simulator's for that id.

    Raises:
        DataError: unreadable CSV or rows that do not fit the schema.
    """
    return client_data_from_table(client_id, read_csv_table(path), schema,
                                  test_fraction=test_fraction, task_seed=task_seed)
