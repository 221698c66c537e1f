"""node.aggregation.robust: median, trimmed mean, Krum, Multi-Krum, norm clipping, exact numbers."""

from __future__ import annotations

import numpy as np
import pytest

from node.aggregation.fedavg import ClientUpdate, EmptyAggregationError, RuleParamsError
from node.aggregation.robust import (
    CoordinateMedian,
    Krum,
    MultiKrum,
    NormClippedFedAvg,
    TrimmedMean,
    clip_client_update,
    coordinate_median,
    krum_scores,
    trimmed_mean,
)


def _u(values: list[float], n: int = 1) -> ClientUpdate:
    return ClientUpdate(delta=np.array(values, dtype=np.float32), num_samples=n)


def test_median_odd_count() -> None:
    result = coordinate_median([_u([1, 5]), _u([2, -1]), _u([10, 0])])
    assert result.delta.tolist() == [2.0, 0.0]
    assert result.used == (0, 1, 2)


def test_median_even_count_averages_the_middle_pair() -> None:
    result = CoordinateMedian().aggregate([_u([1, 5]), _u([2, -1]), _u([10, 0]), _u([4, 3])])
    assert result.delta.tolist() == [3.0, 1.5]


def test_median_ignores_sample_counts_and_one_outlier() -> None:
    updates = [_u([1.0], 1), _u([2.0], 1), _u([1e30], 1_000_000)]
    assert CoordinateMedian().aggregate(updates, max_samples=None).delta.tolist() == [2.0]


def test_trimmed_mean_exact() -> None:
    updates = [_u([1, 10]), _u([2, 20]), _u([3, -30]), _u([4, 40]), _u([100, 50])]
    # cut = floor(0.2 * 5) = 1 per side: column 0 keeps 2, 3, 4; column 1 keeps 10, 20, 40
    assert trimmed_mean(updates, trim_fraction=0.2).delta.tolist() == [3.0, 70.0 / 3.0]
    # 0.1 * 5 = 0.5 -> no trimming: the plain mean
    assert TrimmedMean(trim_fraction=0.1).aggregate(updates).delta.tolist() == [22.0, 18.0]


def test_trimmed_mean_params() -> None:
    with pytest.raises(RuleParamsError):
        TrimmedMean(trim_fraction=0.5)
    with pytest.raises(RuleParamsError):
        TrimmedMean(trim_fraction="0.1")  # type: ignore[arg-type]


def test_krum_scores_exact() -> None:
    deltas = [np.array([v], dtype=np.float32) for v in (0.0, 1.0, 3.0, 100.0)]
    # f = 0: n - f - 2 = 2 nearest neighbours
    assert krum_scores(deltas, byzantine=0) == [1 + 9, 1 + 4, 4 + 9, 97 ** 2 + 99 ** 2]
    # f = 1: one nearest neighbour
    assert krum_scores(deltas, byzantine=1) == [1, 1, 4, 97 ** 2]


def test_krum_picks_the_most_central_update() -> None:
    updates = [_u([0.0]), _u([1.0]), _u([3.0]), _u([100.0])]
    result = Krum(byzantine=0).aggregate(updates)
    assert result.delta.tolist() == [1.0]
    assert result.used == (1,)


def test_krum_ties_go_to_the_earlier_update() -> None:
    updates = [_u([0.0]), _u([1.0]), _u([3.0]), _u([100.0])]
    assert Krum(byzantine=1).aggregate(updates).used == (0,)


def test_multi_krum_averages_the_selected_by_samples() -> None:
    updates = [_u([0.0], 1), _u([1.0], 3), _u([3.0], 1), _u([100.0], 1)]
    result = MultiKrum(byzantine=0, select=2).aggregate(updates)
    assert result.used == (0, 1)
    assert result.delta.tolist() == [0.75]
    # default select = n - byzantine = 3: drops only the outlier; capped weights 1, 1, 1
    result = MultiKrum(byzantine=1).aggregate(updates, max_samples=1)
    assert result.used == (0, 1, 2)
    assert result.delta.tolist() == [4.0 / 3.0]


def test_krum_with_a_single_update() -> None:
    assert Krum(byzantine=2).aggregate([_u([5.0])]).delta.tolist() == [5.0]


def test_clip_update_exact() -> None:
    assert clip_client_update(_u([6, 8]), 5.0).delta.tolist() == [3.0, 4.0]
    assert clip_client_update(_u([3, 4]), 5.0).delta.tolist() == [3.0, 4.0]
    assert clip_client_update(_u([0, 1]), 5.0).delta.tolist() == [0.0, 1.0]
    with pytest.raises(RuleParamsError):
        clip_client_update(_u([1]), 0.0)


def test_norm_clipped_fedavg_exact() -> None:
    updates = [_u([3, 4]), _u([6, 8]), _u([0, 1])]
    # clipped: [3, 4], [3, 4], [0, 1] -> mean [2, 3]
    result = NormClippedFedAvg(max_norm=5.0).aggregate(updates)
    assert result.delta.tolist() == [2.0, 3.0]
    with pytest.raises(RuleParamsError):
        NormClippedFedAvg(max_norm=-1.0)


@pytest.mark.parametrize("rule", [CoordinateMedian(), TrimmedMean(trim_fraction=0.2),
                                  Krum(byzantine=1), MultiKrum(byzantine=1),
                                  NormClippedFedAvg(max_norm=1.0)])
def test_robust_rules_are_deterministic_and_reject_empty(rule) -> None:
    rng = np.random.default_rng(3)
    updates = [ClientUpdate(rng.standard_normal(500, dtype=np.float32), int(n))
               for n in rng.integers(1, 50, size=6)]
    assert rule.aggregate(updates).delta.tobytes() == rule.aggregate(list(updates)).delta.tobytes()
    with pytest.raises(EmptyAggregationError):
        rule.aggregate([])
