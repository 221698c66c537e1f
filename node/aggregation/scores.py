"""Contribution scores and the integer split of a round's reward budget.

Scores are integers so that every committee member computes the same rewards root:

* ``samples`` (default): the capped sample count of each accepted update.
* ``leave_one_out``: how much the round's model gets worse on a validation set when the
  update is left out, ``max(0, round((metric_with - metric_without) * scale))``. The
  metric comes from an ``evaluate`` callback, which must itself be deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from node.aggregation.fedavg import capped_weight
from node.errors import NodeError

__all__ = [
    "DEFAULT_LOO_SCALE",
    "ScoreError",
    "compute_leave_one_out",
    "leave_one_out_scores",
    "reward_split",
    "sample_scores",
]

DEFAULT_LOO_SCALE = 1_000_000
"""Leave-one-out scores are metric differences in millionths (e.g. of accuracy)."""


class ScoreError(NodeError):
    """Negative scores or budget, or a non-finite metric."""


def sample_scores(num_samples: Sequence[int], max_samples: int | None) -> list[int]:
    """Each accepted update's capped sample count.

    Raises:
        RuleParamsError: ``max_samples`` is not a positive int.
    """
    return [capped_weight(n, max_samples) for n in num_samples]


def leave_one_out_scores(metric_with_all: float, metrics_without: Sequence[float], *,
                         scale: int = DEFAULT_LOO_SCALE) -> list[int]:
    """Integer leave-one-out scores from already computed metrics (higher is better).

    Args:
        metric_with_all: validation metric of the model aggregated from all accepted updates.
        metrics_without: the same metric with update ``i`` left out, one per update.
        scale: multiplier before rounding to an integer.

    Returns:
        ``max(0, round((metric_with_all - m_i) * scale))`` for each ``m_i``; an update
        that did not help scores 0.

    Raises:
        ScoreError: a metric is NaN or infinite.
    """
    values = [metric_with_all, *metrics_without]
    if not all(math.isfinite(v) for v in values):
        raise ScoreError(f"metrics must be finite, got {values}")
    return [max(0, round((metric_with_all - m) * scale)) for m in metrics_without]


def compute_leave_one_out(count: int, model_without: Callable[[int | None], object],
                          evaluate: Callable[[object], float], *,
                          scale: int = DEFAULT_LOO_SCALE) -> list[int]:
    """Leave-one-out scores via callbacks (keeps this module free of model code).

    Args:
        count: number of accepted updates.
        model_without: ``model_without(None)`` is the model from all updates,
            ``model_without(i)`` the model without accepted update ``i``.
        evaluate: the validation metric of a model (higher is better).
        scale: multiplier before rounding.

    Returns:
        One integer score per accepted update.

    Raises:
        ScoreError: a metric is NaN or infinite.
    """
    full = float(evaluate(model_without(None)))
    without = [float(evaluate(model_without(i))) for i in range(count)]
    return leave_one_out_scores(full, without, scale=scale)


def reward_split(scores: Sequence[int], budget: int) -> list[int]:
    """Split ``budget`` in proportion to ``scores`` with integers (largest remainder).

    Each share is ``floor(budget * s_i / S)``; the units left over go one each to the
    largest remainders ``budget * s_i mod S``, ties to the lower index. The shares sum to
    ``budget`` exactly when ``S > 0``, and are all 0 when every score is 0.

    Raises:
        ScoreError: a negative or non-integer score or budget.
    """
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < 0:
        raise ScoreError(f"budget must be a non-negative int, got {budget!r}")
    for s in scores:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            raise ScoreError(f"scores must be non-negative ints, got {s!r}")
    total = sum(scores)
    if total == 0:
        return [0] * len(scores)
    shares = [budget * s // total for s in scores]
    leftover = budget - sum(shares)
    by_remainder = sorted(range(len(scores)), key=lambda i: (-(budget * scores[i] % total), i))
    for i in by_remainder[:leftover]:
        shares[i] += 1
    return shares
