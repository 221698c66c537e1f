"""node.aggregation.fedavg: streaming FedAvg with exact numbers, the samples cap, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from node.aggregation.fedavg import (
    AggregationError,
    ClientUpdate,
    EmptyAggregationError,
    FedAvg,
    FedAvgAccumulator,
    RuleParamsError,
    capped_weight,
    fedavg,
)


def _u(values: list[float], n: int = 1) -> ClientUpdate:
    return ClientUpdate(delta=np.array(values, dtype=np.float32), num_samples=n)


def test_fedavg_weighted_by_samples_exact() -> None:
    result = fedavg([_u([1, 2, -3], 1), _u([3, 0, 1], 3)])
    # (1*1 + 3*3)/4, (1*2 + 3*0)/4, (1*-3 + 3*1)/4
    assert result.delta.dtype == np.float64
    assert result.delta.tolist() == [2.5, 0.5, 0.0]
    assert result.used == (0, 1)


def test_samples_cap_limits_a_participant_claiming_everything() -> None:
    updates = [_u([1, 2, -3], 1), _u([3, 0, 1], 1_000_000)]
    assert fedavg(updates, max_samples=1).delta.tolist() == [2.0, 1.0, -1.0]
    assert fedavg(updates, max_samples=3).delta.tolist() == [2.5, 0.5, 0.0]
    assert capped_weight(7, None) == 7
    assert capped_weight(7, 5) == 5
    with pytest.raises(RuleParamsError):
        capped_weight(7, 0)


def test_accumulates_in_float64_and_casts_once() -> None:
    # In float32, 1e8 + 1 == 1e8, so a float32 running sum would give 0.
    updates = [_u([1e8]), _u([1.0]), _u([-1e8])]
    delta = fedavg(updates).delta
    assert delta.tolist() == [1.0 / 3.0]
    assert np.float32(delta[0]) == np.float32(0.33333334)


def test_streams_from_a_generator_with_one_accumulator() -> None:
    consumed: list[int] = []

    def generate():
        for i in range(50):
            consumed.append(i)
            yield _u([float(i), 1.0], n=i + 1)

    result = fedavg(generate())
    weights = np.arange(1, 51, dtype=np.float64)
    assert consumed == list(range(50))
    assert result.delta.tolist() == [float((weights * (weights - 1)).sum() / weights.sum()), 1.0]
    assert len(result.used) == 50


def test_accumulator_memory_is_one_model_whatever_the_count() -> None:
    size = 200_000
    acc = FedAvgAccumulator(size)
    held = acc._sum.nbytes + acc._scratch.nbytes
    assert acc._sum.nbytes == 8 * size
    assert acc._scratch.nbytes <= 8 * 65536
    rng = np.random.default_rng(0)
    for _ in range(20):
        acc.add(ClientUpdate(delta=rng.standard_normal(size, dtype=np.float32), num_samples=2))
    assert acc.count == 20 and acc.total_weight == 40
    assert acc._sum.nbytes + acc._scratch.nbytes == held
    assert acc.result() is acc._sum  # divided in place: still one model
    with pytest.raises(AggregationError):
        acc.result()
    with pytest.raises(AggregationError):
        acc.add(ClientUpdate(delta=np.zeros(size, dtype=np.float32), num_samples=1))


def test_chunked_accumulation_equals_plain_float64_arithmetic() -> None:
    rng = np.random.default_rng(1)
    size = 150_001  # crosses chunk boundaries unevenly
    deltas = [rng.standard_normal(size, dtype=np.float32) for _ in range(3)]
    counts = [5, 2, 9]
    expected = np.zeros(size)
    for d, n in zip(deltas, counts, strict=True):
        expected += float(n) * d.astype(np.float64)
    expected /= 16.0
    got = fedavg(ClientUpdate(d, n) for d, n in zip(deltas, counts, strict=True)).delta
    assert np.array_equal(got, expected)


def test_fedavg_is_deterministic_bitwise() -> None:
    rng = np.random.default_rng(2)
    updates = [ClientUpdate(rng.standard_normal(1000, dtype=np.float32), int(n))
               for n in rng.integers(1, 100, size=7)]
    first = FedAvg().aggregate(updates).delta
    second = FedAvg().aggregate(list(updates)).delta
    assert first.tobytes() == second.tobytes()


def test_errors() -> None:
    with pytest.raises(EmptyAggregationError):
        fedavg([])
    with pytest.raises(AggregationError, match="values"):
        fedavg([_u([1, 2]), _u([1, 2, 3])])
    with pytest.raises(AggregationError, match="num_samples"):
        _u([1.0], n=0)
    with pytest.raises(AggregationError, match="num_samples"):
        ClientUpdate(np.zeros(1, dtype=np.float32), True)
