"""node.numeric: the machine-independent reductions the committee repeats bit for bit."""

from __future__ import annotations

import numpy as np

from node.numeric import clip_to_norm, ordered_sum

# 1e16 has a float64 spacing of 2, so left to right every +1 is rounded away and the sum
# is 0; numpy's pairwise/unrolled np.sum adds the ones to each other first and gives 16.
CANCELLING = np.array([1e16] + [1.0] * 16 + [-1e16])


def test_ordered_sum_is_strictly_left_to_right() -> None:
    assert ordered_sum(CANCELLING) == 0.0
    assert float(np.sum(CANCELLING)) == 16.0  # the grouping ordered_sum must not use


def test_ordered_sum_of_nothing_is_zero() -> None:
    assert ordered_sum(np.array([], dtype=np.float64)) == 0.0


def test_clip_to_norm_scales_only_longer_vectors() -> None:
    clipped, norm = clip_to_norm(np.array([6.0, 8.0], np.float32), 5.0)
    assert (clipped.tolist(), norm, clipped.dtype) == ([3.0, 4.0], 10.0, np.float64)
    same, norm = clip_to_norm(np.array([0.3, 0.4]), 1.0)
    assert (same.tolist(), norm) == ([0.3, 0.4], 0.5)
    zero, norm = clip_to_norm(np.zeros(3), 1.0)
    assert (zero.tolist(), norm) == ([0.0, 0.0, 0.0], 0.0)


def test_clip_to_norm_returns_a_copy() -> None:
    original = np.array([1.0, 2.0])
    clipped, _ = clip_to_norm(original, 10.0)
    clipped[0] = 99.0
    assert original.tolist() == [1.0, 2.0]
