"""Aggregation basics: client updates, the rule interface, and streaming FedAvg.

An update is a DELTA: the participant's local weights minus the parent weights, flattened
in canonical order (see :mod:`node.codec.flat`). A rule turns the updates of one round
into one float64 delta.

Determinism (DESIGN.md): arithmetic is elementwise float64 over the updates in the order
they are given; there is no reduction whose association order depends on threads, SIMD
width or library version. Accumulation is ``acc += w * x`` row by row with numpy
elementwise ufuncs (each op correctly rounded, no fused multiply-add), and whole-vector
sums use :func:`node.numeric.ordered_sum` (a strictly sequential prefix sum).

Errors::

    NodeError
    └── AggregationError
        ├── EmptyAggregationError  (a rule given no updates)
        ├── RuleParamsError        (unknown rule, bad or unknown rule parameters)
        └── NonFiniteResultError   (the new model would hold NaN or infinity)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from node.errors import NodeError

__all__ = [
    "Aggregate",
    "AggregationError",
    "AggregationRule",
    "ClientUpdate",
    "EmptyAggregationError",
    "FedAvg",
    "FedAvgAccumulator",
    "NonFiniteResultError",
    "RuleParamsError",
    "capped_weight",
    "fedavg",
]

_CHUNK = 1 << 16  # elements per scratch block: bounded extra memory, cache friendly


class AggregationError(NodeError):
    """Base class of every aggregation failure."""


class EmptyAggregationError(AggregationError):
    """A rule was given no updates."""


class RuleParamsError(AggregationError):
    """An unknown rule name, or rule parameters that are missing, unknown or out of range."""


class NonFiniteResultError(AggregationError):
    """The aggregated model would hold NaN or an infinity."""


@dataclass(frozen=True)
class ClientUpdate:
    """One participant's contribution to a round.

    Attributes:
        delta: 1-D float array (float32 as decoded; float64 after clipping), local
            weights minus parent weights in canonical order.
        num_samples: the self-reported number of training examples (>= 1).
    """

    delta: np.ndarray
    num_samples: int

    def __post_init__(self) -> None:
        if (not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool)
                or self.num_samples < 1):
            raise AggregationError(f"num_samples must be a positive int, got {self.num_samples!r}")
        if self.delta.ndim != 1 or not np.issubdtype(self.delta.dtype, np.floating):
            raise AggregationError("delta must be a 1-D floating array")


@dataclass(frozen=True)
class Aggregate:
    """A rule's output.

    Attributes:
        delta: the aggregated float64 delta.
        used: positions (in the order the updates were given) of the updates that
            contributed; a selection rule such as Krum leaves the others out.
    """

    delta: np.ndarray
    used: tuple[int, ...]


class AggregationRule(ABC):
    """A deterministic function from a round's updates to one delta."""

    name: ClassVar[str]
    streaming: ClassVar[bool] = False
    """True when the rule consumes its iterable one update at a time (memory of O(1) models)."""

    @abstractmethod
    def aggregate(self, updates: Iterable[ClientUpdate], *,
                  max_samples: int | None = None) -> Aggregate:
        """Aggregate ``updates`` (in the given order).

        Args:
            updates: the round's valid updates; may be a generator.
            max_samples: cap applied to each self-reported ``num_samples`` when weighting.

        Returns:
            The float64 delta and the positions of the updates used.

        Raises:
            EmptyAggregationError: no updates.
            AggregationError: updates of different sizes.
        """


def capped_weight(num_samples: int, max_samples: int | None) -> int:
    """The weight an update gets: its sample count, capped at ``max_samples``.

    Raises:
        RuleParamsError: ``max_samples`` given but not a positive int.
    """
    if max_samples is None:
        return num_samples
    if not isinstance(max_samples, int) or isinstance(max_samples, bool) or max_samples < 1:
        raise RuleParamsError(f"max_samples must be a positive int, got {max_samples!r}")
    return min(num_samples, max_samples)


class FedAvgAccumulator:
    """Streaming weighted sum: holds one float64 model whatever the number of updates.

    Example::

        acc = FedAvgAccumulator(size, max_samples=1000)
        for update in updates:      # e.g. a generator decoding one payload at a time
            acc.add(update)
        delta = acc.result()
    """

    def __init__(self, size: int, *, max_samples: int | None = None) -> None:
        self._sum = np.zeros(size, dtype=np.float64)
        self._scratch = np.empty(min(size, _CHUNK), dtype=np.float64)
        self._max_samples = max_samples
        capped_weight(1, max_samples)  # validate early
        self.total_weight = 0
        self.count = 0
        self._finished = False

    def add(self, update: ClientUpdate) -> None:
        """Add ``weight * update.delta`` elementwise in float64.

        Raises:
            AggregationError: the update's size differs from the accumulator's.
        """
        if self._finished:
            raise AggregationError("cannot add to a finished FedAvgAccumulator")
        if update.delta.size != self._sum.size:
            raise AggregationError(
                f"update has {update.delta.size} values, model has {self._sum.size}")
        weight = float(capped_weight(update.num_samples, self._max_samples))
        delta = update.delta
        for start in range(0, self._sum.size, _CHUNK):
            stop = min(start + _CHUNK, self._sum.size)
            scratch = self._scratch[: stop - start]
            # dtype=float64 forces the product itself into float64 (NEP 50 would
            # otherwise compute float32 * python-float in float32).
            np.multiply(delta[start:stop], weight, out=scratch, dtype=np.float64)
            np.add(self._sum[start:stop], scratch, out=self._sum[start:stop])
        self.total_weight += int(weight)
        self.count += 1

    def result(self) -> np.ndarray:
        """The weighted mean ``sum(w_i * d_i) / sum(w_i)`` (float64).

        Divides the accumulator in place (no second model in memory), so it finishes
        the accumulator: call it once, after the last :meth:`add`.

        Raises:
            EmptyAggregationError: nothing was added.
            AggregationError: called twice.
        """
        if self.count == 0:
            raise EmptyAggregationError("FedAvg needs at least one update")
        if self._finished:
            raise AggregationError("FedAvgAccumulator.result() was already called")
        self._finished = True
        np.divide(self._sum, float(self.total_weight), out=self._sum)
        return self._sum


def fedavg(updates: Iterable[ClientUpdate], *, max_samples: int | None = None) -> Aggregate:
    """FedAvg of ``updates``, weighted by capped sample counts, streaming.

    Args:
        updates: the updates, consumed one at a time (a generator keeps memory at one
            decoded update plus one float64 accumulator).
        max_samples: cap on each self-reported sample count.

    Returns:
        The weighted mean delta; every update is used.

    Raises:
        EmptyAggregationError: no updates.
        AggregationError: updates of different sizes.
    """
    accumulator: FedAvgAccumulator | None = None
    for update in updates:
        if accumulator is None:
            accumulator = FedAvgAccumulator(update.delta.size, max_samples=max_samples)
        accumulator.add(update)
    if accumulator is None:
        raise EmptyAggregationError("FedAvg needs at least one update")
    return Aggregate(delta=accumulator.result(), used=tuple(range(accumulator.count)))


class FedAvg(AggregationRule):
    """Weighted mean of the updates (McMahan et al., 2017)."""

    name = "fedavg"
    streaming = True

    def aggregate(self, updates: Iterable[ClientUpdate], *,
                  max_samples: int | None = None) -> Aggregate:
        return fedavg(updates, max_samples=max_samples)
