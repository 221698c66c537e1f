"""Partitioners: split one pooled table's row indices among simulated participants.

Every partitioner is a pure function of its inputs and an integer seed (numpy's PCG64
``default_rng(seed)``), returns ``{client_id: sorted int64 indices}`` in client order,
and gives every row to exactly one participant. Client ids are file-name safe so the
same ids name the shard CSVs (``node.data.datasets.write_shards``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from node.data.preprocess import DataError

PARTITIONS = ("dirichlet", "iid", "natural", "shards")
"""The partitioner names ``node.data.split.DataSplit`` takes."""

__all__ = [
    "PARTITIONS",
    "client_ids",
    "dirichlet_partition",
    "iid_partition",
    "natural_partition",
    "shard_partition",
]


def client_ids(n_clients: int) -> list[str]:
    """``client-00``, ``client-01``, ... (zero-padded so names sort in index order)."""
    width = max(2, len(str(n_clients - 1)))
    return [f"client-{k:0{width}d}" for k in range(n_clients)]


def _check_clients(n_clients: int, n_rows: int) -> None:
    if n_clients < 1:
        raise DataError(f"need at least one participant, got {n_clients}")
    if n_rows < n_clients:
        raise DataError(f"{n_rows} rows cannot give {n_clients} participants a row each")


def natural_partition(values: Sequence[str], *, prefix: str = "") -> dict[str, np.ndarray]:
    """One participant per distinct value of a column (e.g. ``Region`` -> 9 shops).

    Ids are ``prefix + value``; values that look like integers are ordered numerically.

    Raises:
        DataError: no rows, or a value that is not a safe file name.
    """
    if len(values) == 0:
        raise DataError("natural partition of an empty column")
    array = np.asarray([str(v).strip() for v in values])
    distinct = sorted(set(array.tolist()), key=lambda v: (not v.isdigit(), int(v) if v.isdigit()
                                                          else 0, v))
    parts: dict[str, np.ndarray] = {}
    for value in distinct:
        if not value or "/" in value or value.startswith("."):
            raise DataError(f"column value {value!r} cannot name a participant")
        parts[f"{prefix}{value}"] = np.flatnonzero(array == value).astype(np.int64)
    return parts


def iid_partition(n_rows: int, n_clients: int, *, seed: int) -> dict[str, np.ndarray]:
    """Shuffles rows and deals them into ``n_clients`` near-equal parts.

    Raises:
        DataError: fewer rows than participants.
    """
    _check_clients(n_clients, n_rows)
    order = np.random.default_rng(seed).permutation(n_rows)
    return {cid: np.sort(chunk).astype(np.int64)
            for cid, chunk in zip(client_ids(n_clients), np.array_split(order, n_clients),
                                  strict=True)}


def dirichlet_partition(labels: Sequence[int] | np.ndarray, n_clients: int, *, alpha: float,
                        seed: int, min_size: int = 1) -> dict[str, np.ndarray]:
    """Label skew: each class's rows are split by proportions ~ Dirichlet(alpha).

    Small ``alpha`` (0.1) gives each participant a few dominant classes; large alpha
    tends to IID. Draws are redone (same generator, so still deterministic) until every
    participant holds at least ``min_size`` rows, as in Hsu et al. (2019).

    Raises:
        DataError: alpha not positive, too few rows, or no valid draw in 1000 tries.
    """
    y = np.asarray(labels, dtype=np.int64)
    _check_clients(n_clients, len(y) // max(min_size, 1))
    if not alpha > 0:
        raise DataError(f"Dirichlet alpha must be > 0, got {alpha}")
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    for _ in range(1000):
        buckets: list[list[np.ndarray]] = [[] for _ in range(n_clients)]
        for c in classes:
            rows = rng.permutation(np.flatnonzero(y == c))
            shares = rng.dirichlet(np.full(n_clients, alpha))
            cuts = (np.cumsum(shares)[:-1] * len(rows)).astype(np.int64)
            for k, chunk in enumerate(np.split(rows, cuts)):
                buckets[k].append(chunk)
        sizes = [sum(len(chunk) for chunk in b) for b in buckets]
        if min(sizes) >= min_size:
            return {cid: np.sort(np.concatenate(b)).astype(np.int64)
                    for cid, b in zip(client_ids(n_clients), buckets, strict=True)}
    raise DataError(f"no Dirichlet({alpha}) draw gave every participant {min_size} rows")


def shard_partition(labels: Sequence[int] | np.ndarray, n_clients: int, *,
                    shards_per_client: int, seed: int) -> dict[str, np.ndarray]:
    """Pathological label shards (McMahan et al. 2017): sort by label, cut into
    ``n_clients * shards_per_client`` shards, give each participant that many at random.

    Raises:
        DataError: fewer rows than shards, or ``shards_per_client < 1``.
    """
    y = np.asarray(labels, dtype=np.int64)
    if shards_per_client < 1:
        raise DataError(f"shards_per_client must be >= 1, got {shards_per_client}")
    n_shards = n_clients * shards_per_client
    _check_clients(n_shards, len(y))
    by_label = np.argsort(y, kind="stable")
    shards = np.array_split(by_label, n_shards)
    order = np.random.default_rng(seed).permutation(n_shards)
    return {
        cid: np.sort(np.concatenate([shards[s] for s in
                                     order[k * shards_per_client:(k + 1) * shards_per_client]]))
        .astype(np.int64)
        for k, cid in enumerate(client_ids(n_clients))
    }
