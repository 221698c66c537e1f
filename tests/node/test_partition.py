"""Partitioners: exact seeded sizes, every row exactly once, typed errors."""

from __future__ import annotations

import numpy as np
import pytest

from node.data.datasets import builtin_dataset
from node.data.partition import (
    client_ids,
    dirichlet_partition,
    iid_partition,
    natural_partition,
    shard_partition,
)
from node.data.preprocess import DataError, encode_rows


@pytest.fixture(scope="module")
def digit_labels() -> np.ndarray:
    table, schema = builtin_dataset("digits")
    return encode_rows(table.header, table.rows, schema)[1]


def _covers_once(parts: dict[str, np.ndarray], n: int) -> bool:
    return sorted(np.concatenate(list(parts.values())).tolist()) == list(range(n))


def test_iid_sizes_and_seed():
    parts = iid_partition(1797, 10, seed=3)
    assert [len(v) for v in parts.values()] == [180] * 7 + [179] * 3
    assert parts["client-00"][:5].tolist() == [6, 24, 51, 55, 57]
    assert _covers_once(parts, 1797)
    other = iid_partition(1797, 10, seed=4)
    assert parts["client-00"].tolist() != other["client-00"].tolist()


def test_dirichlet_sizes_are_exact(digit_labels):
    parts = dirichlet_partition(digit_labels, 10, alpha=0.5, seed=3)
    assert [len(v) for v in parts.values()] == [42, 171, 247, 265, 313, 201, 34, 162, 207, 155]
    assert _covers_once(parts, 1797)
    again = dirichlet_partition(digit_labels, 10, alpha=0.5, seed=3)
    assert all(np.array_equal(parts[k], again[k]) for k in parts)


def test_dirichlet_small_alpha_is_skewed(digit_labels):
    parts = dirichlet_partition(digit_labels, 10, alpha=0.1, seed=3, min_size=2)
    top_share = [np.bincount(digit_labels[v]).max() / len(v) for v in parts.values()]
    assert min(len(v) for v in parts.values()) >= 2
    assert float(np.mean(top_share)) > 0.6


def test_shards_give_few_labels(digit_labels):
    parts = shard_partition(digit_labels, 10, shards_per_client=2, seed=3)
    assert [len(v) for v in parts.values()] == [180, 179, 180, 180, 180, 180, 179, 180, 180, 179]
    assert [sorted(set(digit_labels[v].tolist())) for v in parts.values()][:3] == [
        [5, 6, 7, 8], [4, 9], [1, 6]]
    assert _covers_once(parts, 1797)


def test_natural_orders_numeric_values_and_prefixes():
    parts = natural_partition(["10", "2", "b", "2", "a"], prefix="shop-")
    assert list(parts) == ["shop-2", "shop-10", "shop-a", "shop-b"]
    assert parts["shop-2"].tolist() == [1, 3]


def test_client_ids_sort_in_index_order():
    assert client_ids(3) == ["client-00", "client-01", "client-02"]
    assert client_ids(101)[100] == "client-100"


@pytest.mark.parametrize(
    "call",
    [
        lambda y: iid_partition(3, 4, seed=0),
        lambda y: iid_partition(3, 0, seed=0),
        lambda y: dirichlet_partition(y, 10, alpha=0.0, seed=0),
        lambda y: dirichlet_partition(y[:5], 10, alpha=0.5, seed=0),
        lambda y: shard_partition(y, 10, shards_per_client=0, seed=0),
        lambda y: natural_partition([]),
        lambda y: natural_partition(["../x"]),
    ],
)
def test_bad_partitions_raise_data_error(digit_labels, call):
    with pytest.raises(DataError):
        call(digit_labels)
