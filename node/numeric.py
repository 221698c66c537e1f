"""Reductions whose result does not depend on the machine: the float64 arithmetic every
committee member must repeat bit for bit (DESIGN.md, "Determinism").

``np.sum`` and ``np.linalg.norm`` group their additions pairwise or by SIMD width, and
the grouping may change with the numpy build or the CPU; a prefix sum has one order.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["clip_to_norm", "ordered_sum"]


def ordered_sum(values: np.ndarray) -> float:
    """Sum of ``values`` in float64, strictly left to right."""
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    if flat.size == 0:
        return 0.0
    return float(np.add.accumulate(flat)[-1])


def clip_to_norm(vector: np.ndarray, max_norm: float) -> tuple[np.ndarray, float]:
    """``vector`` (as a new float64 array) scaled down to L2 norm ``max_norm`` if longer.

    The norm is an :func:`ordered_sum` of squares. ``max_norm`` must be positive: the
    callers check it and raise their own error.

    Returns:
        ``(clipped copy, norm before clipping)``.
    """
    flat = np.asarray(vector, dtype=np.float64)
    norm = math.sqrt(ordered_sum(flat * flat))
    factor = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return flat * factor, norm
