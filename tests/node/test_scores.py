"""node.aggregation.scores: integer scores and the reward split."""

from __future__ import annotations

import pytest

from node.aggregation.scores import (
    ScoreError,
    compute_leave_one_out,
    leave_one_out_scores,
    reward_split,
    sample_scores,
)


def test_sample_scores_are_capped() -> None:
    assert sample_scores([10, 500, 3], max_samples=100) == [10, 100, 3]
    assert sample_scores([10, 500, 3], max_samples=None) == [10, 500, 3]


def test_reward_split_largest_remainder_exact() -> None:
    # 100 * [1, 1, 1] / 3 = 33.33 each: one leftover unit goes to the first (tie, lowest index)
    assert reward_split([1, 1, 1], 100) == [34, 33, 33]
    # 10 * [1, 2, 3] / 6 = 1.67, 3.33, 5: remainders 4, 2, 0 (of 6) -> first gets the unit
    assert reward_split([1, 2, 3], 10) == [2, 3, 5]
    assert reward_split([0, 5], 7) == [0, 7]
    assert reward_split([0, 0], 7) == [0, 0]
    assert reward_split([], 7) == []


def test_reward_split_sums_to_the_budget() -> None:
    scores = [7, 0, 13, 1, 1, 99, 4]
    for budget in (0, 1, 6, 100, 10**18 + 7):
        shares = reward_split(scores, budget)
        assert sum(shares) == budget
        assert all(s >= 0 for s in shares)


def test_reward_split_rejects_bad_input() -> None:
    with pytest.raises(ScoreError):
        reward_split([1, -1], 10)
    with pytest.raises(ScoreError):
        reward_split([1], -1)
    with pytest.raises(ScoreError):
        reward_split([1.5], 10)  # type: ignore[list-item]


def test_leave_one_out_scores_exact() -> None:
    # with all: 0.9; without #0: 0.85 (it helped by 0.05); without #1: 0.95 (it hurt)
    assert leave_one_out_scores(0.9, [0.85, 0.95, 0.9], scale=1000) == [50, 0, 0]
    with pytest.raises(ScoreError):
        leave_one_out_scores(float("nan"), [0.1])


def test_compute_leave_one_out_with_callbacks() -> None:
    models = {None: 10.0, 0: 7.0, 1: 9.5}
    scores = compute_leave_one_out(2, lambda i: models[i], lambda m: m / 10.0, scale=100)
    assert scores == [30, 5]
