"""Schema preprocessing, built-in data sets, shard CSVs: exact values, no leakage."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from node.data.datasets import (
    Table,
    builtin_dataset,
    client_data_from_table,
    load_participant_csv,
    read_csv_table,
    split_train_test,
    write_shards,
)
from node.data.partition import natural_partition
from node.data.preprocess import (
    CategoricalColumn,
    DataError,
    DataSchema,
    NumericColumn,
    encode_rows,
)
from node.data.schemas import DIGITS_SCHEMA, SHOPPERS_SCHEMA

REGION_SIZES = {"region-1": 4780, "region-2": 1136, "region-3": 2403, "region-4": 1182,
                "region-5": 318, "region-6": 805, "region-7": 761, "region-8": 434,
                "region-9": 511}


@pytest.fixture(scope="module")
def shoppers() -> Table:
    table, schema = builtin_dataset("shoppers")
    assert schema is SHOPPERS_SCHEMA
    return table


def test_shoppers_shape_and_first_row(shoppers):
    x, y = encode_rows(shoppers.header, shoppers.rows, SHOPPERS_SCHEMA)
    assert x.shape == (12330, 67) and x.dtype == np.float32
    assert int(y.sum()) == 1908
    # first session: all counts 0, rates 0.2, Feb, OS 1, Browser 1, TrafficType 1, returning
    assert x[0, :10].tolist() == [-0.930232584476471, -0.9583333134651184, -0.47999998927116394,
                                  -0.46666666865348816, -2.006229877471924, -3.0,
                                  3.7083332538604736, 3.2040815353393555, -0.4881889820098877,
                                  -0.3050000071525574]
    assert np.flatnonzero(x[0, 10:]).tolist() == [1, 12, 16, 24, 37]


def test_natural_partition_gives_nine_shops(shoppers):
    parts = natural_partition(shoppers.column("Region"), prefix="region-")
    assert {k: len(v) for k, v in parts.items()} == REGION_SIZES
    assert list(parts) == sorted(REGION_SIZES)


def test_features_of_one_shop_ignore_other_shops(shoppers):
    """Changing shop 2's rows (values and count) leaves shop 1's tensors bit-identical."""
    parts = natural_partition(shoppers.column("Region"), prefix="region-")
    before = client_data_from_table("region-1", shoppers.take(parts["region-1"]),
                                    SHOPPERS_SCHEMA, test_fraction=0.2, task_seed=7)
    j = shoppers.header.index("ProductRelated_Duration")
    altered_rows = [list(row) for row in shoppers.rows]
    for k in parts["region-2"]:
        altered_rows[k][j] = "99999.5"
    dropped = set(parts["region-2"][-100:].tolist())  # and shop 2 loses 100 sessions
    altered = Table(shoppers.header, tuple(tuple(r) for k, r in enumerate(altered_rows)
                                           if k not in dropped))
    parts_after = natural_partition(altered.column("Region"), prefix="region-")
    after = client_data_from_table("region-1", altered.take(parts_after["region-1"]),
                                   SHOPPERS_SCHEMA, test_fraction=0.2, task_seed=7)
    assert torch.equal(before.train.x, after.train.x)
    assert torch.equal(before.test.y, after.test.y)


def test_shard_csv_gives_the_simulator_tensors(shoppers, tmp_path):
    parts = natural_partition(shoppers.column("Region"), prefix="region-")
    paths = write_shards(shoppers, parts, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{k}.csv" for k in sorted(parts)]
    for cid in ("region-5", "region-9"):
        simulated = client_data_from_table(cid, shoppers.take(parts[cid]), SHOPPERS_SCHEMA,
                                           test_fraction=0.2, task_seed=7)
        own = load_participant_csv(paths[cid], SHOPPERS_SCHEMA, client_id=cid,
                                   test_fraction=0.2, task_seed=7)
        for a, b in ((simulated.train, own.train), (simulated.test, own.test)):
            assert a.x.numpy().tobytes() == b.x.numpy().tobytes()
            assert torch.equal(a.y, b.y)
    region5 = load_participant_csv(paths["region-5"], SHOPPERS_SCHEMA, client_id="region-5",
                                   test_fraction=0.2, task_seed=7)
    assert (len(region5.train), len(region5.test)) == (254, 64)
    assert (int(region5.train.y.sum()), int(region5.test.y.sum())) == (39, 13)


def test_digits_table_and_schema():
    table, schema = builtin_dataset("digits")
    x, y = encode_rows(table.header, table.rows, schema)
    assert schema is DIGITS_SCHEMA and x.shape == (1797, 64)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_split_is_seeded_and_disjoint():
    train, test = split_train_test(10, 0.2, seed=1)
    again = split_train_test(10, 0.2, seed=1)
    assert train.tolist() == again[0].tolist() and test.tolist() == again[1].tolist()
    assert len(test) == 2 and sorted(train.tolist() + test.tolist()) == list(range(10))
    assert split_train_test(1, 0.2, seed=1)[1].tolist() == []
    with pytest.raises(DataError):
        split_train_test(10, 1.0, seed=1)


SMALL = DataSchema(label="y", classes=("no", "yes"),
                   numeric=(NumericColumn("a", "log1p", 1.0, 2.0),),
                   categorical=(CategoricalColumn("c", ("r", "g")),))


def test_user_schema_round_trips_and_encodes(tmp_path):
    assert DataSchema.from_mapping(SMALL.to_mapping()) == SMALL
    path = tmp_path / "mine.csv"
    path.write_text("y,a,c,ignored\nyes,0,g,x\nno,3,blue,y\n")
    x, y = encode_rows(*_table(path), SMALL)
    assert x.tolist() == [[-0.5, 0.0, 1.0], [float(np.float32((np.log1p(3.0) - 1.0) / 2.0)), 0.0, 0.0]]
    assert y.tolist() == [1, 0]


def _table(path):
    table = read_csv_table(path)
    return table.header, table.rows


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("y,a,c\nmaybe,0,g\n", "label 'maybe'"),
        ("y,a,c\nyes,zero,g\n", "not a number"),
        ("y,a,c\nyes,nan,g\n", "non-finite"),
        ("y,a,c\nyes,-1,g\n", "log1p"),
        ("y,c\nyes,g\n", "column 'a' not in table"),
    ],
)
def test_bad_rows_raise_data_error(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        encode_rows(*_table(path), SMALL)


def test_bad_schemas_and_files_raise_data_error(tmp_path):
    with pytest.raises(DataError):
        DataSchema(label="y", classes=("only",), numeric=(NumericColumn("a"),))
    with pytest.raises(DataError):
        NumericColumn("a", "sqrt")
    with pytest.raises(DataError):
        NumericColumn("a", scale=0.0)
    with pytest.raises(DataError):
        DataSchema.from_mapping({"classes": ["a", "b"]})
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1\n")
    with pytest.raises(DataError, match="row 2"):
        read_csv_table(ragged)
    with pytest.raises(DataError):
        read_csv_table(tmp_path / "missing.csv")
    with pytest.raises(DataError):
        builtin_dataset("mnist")
