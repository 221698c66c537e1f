"""Byzantine-robust aggregation rules: coordinate-wise median, trimmed mean, Krum,
Multi-Krum, and FedAvg of norm-clipped updates.

All are deterministic in the sense of :mod:`node.aggregation.fedavg`: sorting is exact, sums run in
a fixed order in float64, and ties are broken by the position of the update in the input.
Median, trimmed mean and Krum need every update at once (memory of N models); norm
clipping streams.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from node.aggregation.fedavg import (
    Aggregate,
    AggregationError,
    AggregationRule,
    ClientUpdate,
    EmptyAggregationError,
    RuleParamsError,
    fedavg,
)
from node.numeric import clip_to_norm, ordered_sum

__all__ = [
    "CoordinateMedian",
    "Krum",
    "MultiKrum",
    "NormClippedFedAvg",
    "TrimmedMean",
    "clip_client_update",
    "coordinate_median",
    "krum_scores",
    "trimmed_mean",
]


def _stack(updates: Iterable[ClientUpdate]) -> tuple[list[ClientUpdate], np.ndarray]:
    items = list(updates)
    if not items:
        raise EmptyAggregationError("robust rules need at least one update")
    sizes = {u.delta.size for u in items}
    if len(sizes) != 1:
        raise AggregationError(f"updates have different sizes: {sorted(sizes)}")
    dtype = np.result_type(*(u.delta.dtype for u in items))
    return items, np.stack([u.delta.astype(dtype, copy=False) for u in items])


def coordinate_median(updates: Iterable[ClientUpdate]) -> Aggregate:
    """Coordinate-wise median (Yin et al., 2018), unweighted.

    For an even count the median is ``(a + b) / 2`` of the two middle values in float64.

    Raises:
        EmptyAggregationError: no updates.
    """
    items, stacked = _stack(updates)
    ordered = np.sort(stacked, axis=0)
    n = len(items)
    upper = ordered[n // 2].astype(np.float64)
    if n % 2:
        delta = upper
    else:
        delta = (ordered[n // 2 - 1].astype(np.float64) + upper) * 0.5
    return Aggregate(delta=delta, used=tuple(range(n)))


def trimmed_mean(updates: Iterable[ClientUpdate], *, trim_fraction: float) -> Aggregate:
    """Coordinate-wise trimmed mean (Yin et al., 2018), unweighted.

    Drops ``floor(trim_fraction * n)`` smallest and largest values per coordinate and
    averages the rest, summing in ascending order in float64.

    Raises:
        EmptyAggregationError: no updates.
        RuleParamsError: ``trim_fraction`` outside ``[0, 0.5)``.
    """
    if not 0.0 <= trim_fraction < 0.5:
        raise RuleParamsError(f"trim_fraction must be in [0, 0.5), got {trim_fraction}")
    items, stacked = _stack(updates)
    n = len(items)
    cut = math.floor(trim_fraction * n)
    ordered = np.sort(stacked, axis=0)
    total = np.zeros(stacked.shape[1], dtype=np.float64)
    for row in ordered[cut:n - cut]:
        total += row.astype(np.float64)  # elementwise, row by row: a fixed order
    return Aggregate(delta=total / float(n - 2 * cut), used=tuple(range(n)))


def _squared_distance(a: np.ndarray, b: np.ndarray) -> float:
    diff = a.astype(np.float64) - b.astype(np.float64)
    return ordered_sum(diff * diff)


def krum_scores(deltas: Sequence[np.ndarray], byzantine: int) -> list[float]:
    """Krum score of each delta (Blanchard et al., 2017).

    The score of ``i`` is the sum of its squared distances to its ``n - f - 2`` nearest
    other deltas (clamped to ``[1, n - 1]`` neighbours so that small rounds still work).

    Args:
        deltas: the flat deltas.
        byzantine: ``f``, the number of attackers the rule must tolerate.

    Returns:
        One score per delta; lower is more central.
    """
    n = len(deltas)
    distances = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            distances[i][j] = distances[j][i] = _squared_distance(deltas[i], deltas[j])
    neighbours = min(max(n - byzantine - 2, 1), n - 1)
    scores = []
    for i in range(n):
        nearest = sorted(distances[i][j] for j in range(n) if j != i)[:neighbours]
        score = 0.0
        for value in nearest:  # ascending, left to right
            score += value
        scores.append(score)
    return scores


def _multi_krum(updates: Iterable[ClientUpdate], *, byzantine: int, select: int | None,
                max_samples: int | None) -> Aggregate:
    items = list(updates)
    if not items:
        raise EmptyAggregationError("Krum needs at least one update")
    scores = krum_scores([u.delta for u in items], byzantine)
    count = len(items) - byzantine if select is None else select
    count = min(max(count, 1), len(items))
    chosen = sorted(sorted(range(len(items)), key=lambda i: (scores[i], i))[:count])
    averaged = fedavg((items[i] for i in chosen), max_samples=max_samples)
    return Aggregate(delta=averaged.delta, used=tuple(chosen))


def clip_client_update(update: ClientUpdate, max_norm: float) -> ClientUpdate:
    """Scale ``update`` down to L2 norm ``max_norm`` if it is longer (float64 result).

    Raises:
        RuleParamsError: ``max_norm`` not positive.
    """
    if not max_norm > 0:
        raise RuleParamsError(f"max_norm must be positive, got {max_norm}")
    delta, _norm = clip_to_norm(update.delta, max_norm)
    return ClientUpdate(delta=delta, num_samples=update.num_samples)


def _require_int(name: str, value: object, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise RuleParamsError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _require_number(name: str, value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise RuleParamsError(f"{name} must be a finite number, got {value!r}")
    return float(value)


class CoordinateMedian(AggregationRule):
    """Coordinate-wise median; no parameters."""

    name = "median"

    def aggregate(self, updates: Iterable[ClientUpdate], *,
                  max_samples: int | None = None) -> Aggregate:
        return coordinate_median(updates)


class TrimmedMean(AggregationRule):
    """Coordinate-wise trimmed mean; parameter ``trim_fraction`` (default 0.1)."""

    name = "trimmed_mean"

    def __init__(self, *, trim_fraction: float = 0.1) -> None:
        self.trim_fraction = _require_number("trim_fraction", trim_fraction)
        if not 0.0 <= self.trim_fraction < 0.5:
            raise RuleParamsError(f"trim_fraction must be in [0, 0.5), got {trim_fraction}")

    def aggregate(self, updates: Iterable[ClientUpdate], *,
                  max_samples: int | None = None) -> Aggregate:
        return trimmed_mean(updates, trim_fraction=self.trim_fraction)


class Krum(AggregationRule):
    """Krum: the single most central update; parameter ``byzantine`` (default 0)."""

    name = "krum"

    def __init__(self, *, byzantine: int = 0) -> None:
        self.byzantine = _require_int("byzantine", byzantine, 0)

    def aggregate(self, updates: Iterable[ClientUpdate], *,
                  max_samples: int | None = None) -> Aggregate:
        return _multi_krum(updates, byzantine=self.byzantine, select=1, max_samples=max_samples)


class MultiKrum(AggregationRule):
    """Multi-Krum: FedAvg of the ``select`` most central updates (default ``n - byzantine``)."""

    name = "multikrum"

    def __init__(self, *, byzantine: int = 0, select: int | None = None) -> None:
        self.byzantine = _require_int("byzantine", byzantine, 0)
        self.select = None if select is None else _require_int("select", select, 1)

    def aggregate(self, updates: Iterable[ClientUpdate], *,
                  max_samples: int | None = None) -> Aggregate:
        return _multi_krum(updates, byzantine=self.byzantine, select=self.select,
                           max_samples=max_samples)


class NormClippedFedAvg(AggregationRule):
    """FedAvg of updates clipped to L2 norm ``max_norm`` (streams); ``max_norm`` required."""

    name = "norm_clip"
    streaming = True

    def __init__(self, *, max_norm: float) -> None:
        self.max_norm = _require_number("max_norm", max_norm)
        if not self.max_norm > 0:
            raise RuleParamsError(f"max_norm must be positive, got {max_norm}")

    def aggregate(self, updates: Iterable[ClientUpdate], *,
                  max_samples: int | None = None) -> Aggregate:
        return fedavg((clip_client_update(u, self.max_norm) for u in updates), max_samples=max_samples)
