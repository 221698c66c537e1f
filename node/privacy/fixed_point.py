"""Fixed-point encoding of pre-weighted updates into the ring Z/2^64 (secure aggregation).

Secure aggregation adds masked integers, so each participant turns its pre-weighted
float delta ``w * x`` (``w`` its capped ``numSamples``) into integers ``rint(w * x * 2^k)``
and works modulo 2^64 (numpy ``uint64`` arithmetic wraps, which is exactly that ring).

The bound that makes the sum decodable: at most ``N`` members submit, and each encoded
value is at most ``L = floor((2^63 - 1) / N)`` in absolute value (an encoder refuses
anything larger), so the true integer sum lies in ``(-2^63, 2^63)`` and reading the ring
sum as a two's-complement int64 recovers it exactly. The scale ``2^k`` is the largest
power of two for which an honest update, ``|x| <= value_bound`` per coordinate and
``w <= max_weight``, stays within ``L``. The resolution of the decoded weighted sum is
``N * 2^-(k+1)`` (each member's rounding is at most half a unit).

Errors::

    NodeError
    └── FixedPointError
        └── FixedPointRangeError  (a value that is not finite or exceeds the per-update bound)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from node.errors import NodeError

__all__ = [
    "MAX_FRAC_BITS",
    "FixedPointError",
    "FixedPointRangeError",
    "RingParams",
    "decode_sum",
    "encode_weighted",
    "ring_params",
]

_HALF_RING = 2**63
MAX_FRAC_BITS = 60
"""No scale finer than 2^-60: beyond that float64 inputs carry no more information."""


class FixedPointError(NodeError):
    """Bad ring parameters."""


class FixedPointRangeError(FixedPointError):
    """A value that cannot be encoded: not finite, or beyond the per-update bound."""


@dataclass(frozen=True)
class RingParams:
    """How every member of a secure round encodes (identical for all of them).

    Attributes:
        frac_bits: ``k``; values are scaled by ``2^k``.
        max_members: ``N``, the most updates that can be summed.
        limit: ``L = floor((2^63 - 1) / N)``, the largest encoded magnitude accepted.
    """

    frac_bits: int
    max_members: int

    def __post_init__(self) -> None:
        for name in ("frac_bits", "max_members"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise FixedPointError(f"{name} must be an int, got {value!r}")
        if not 0 <= self.frac_bits <= MAX_FRAC_BITS:
            raise FixedPointError(f"frac_bits must be in [0, {MAX_FRAC_BITS}], got {self.frac_bits}")
        if self.max_members < 1:
            raise FixedPointError(f"max_members must be >= 1, got {self.max_members}")

    @property
    def limit(self) -> int:
        return (_HALF_RING - 1) // self.max_members

    @property
    def resolution(self) -> float:
        """Worst-case absolute error of a decoded weighted sum: ``N / 2^(k+1)``."""
        return self.max_members * 2.0 ** -(self.frac_bits + 1)


def ring_params(*, max_members: int, max_weight: int, value_bound: float) -> RingParams:
    """The finest scale at which ``max_members`` honest updates cannot wrap the ring.

    Args:
        max_members: the most updates that can be in one sum (the task's member count).
        max_weight: the largest pre-weighting factor (the task's ``max_samples`` cap).
        value_bound: the largest ``|x|`` per coordinate an honest update has (the DP clip
            norm bounds it; otherwise the task's stated bound).

    Returns:
        Parameters with the largest ``k`` such that ``max_weight * value_bound * 2^k <= L``.

    Raises:
        FixedPointError: non-positive arguments, or a bound so large that no ``k >= 0`` fits.
    """
    if not isinstance(max_weight, int) or isinstance(max_weight, bool) or max_weight < 1:
        raise FixedPointError(f"max_weight must be a positive int, got {max_weight!r}")
    if not (isinstance(value_bound, (int, float)) and math.isfinite(value_bound)
            and value_bound > 0):
        raise FixedPointError(f"value_bound must be a positive finite number, got {value_bound!r}")
    limit = RingParams(frac_bits=0, max_members=max_members).limit
    # exact rational arithmetic: the chosen k is a pure function of the three arguments
    room = Fraction(limit) / (max_weight * Fraction(value_bound))
    if room < 1:
        raise FixedPointError(
            f"{max_members} members x weight {max_weight} x bound {value_bound} overflow the ring")
    frac_bits = min((room.numerator // room.denominator).bit_length() - 1, MAX_FRAC_BITS)
    return RingParams(frac_bits=frac_bits, max_members=max_members)


def encode_weighted(values: np.ndarray, weight: int, params: RingParams) -> np.ndarray:
    """``rint(weight * values * 2^k)`` as ring elements (two's complement in ``uint64``).

    Args:
        values: 1-D float array (the update's delta, float32 or float64).
        weight: the pre-weighting factor (capped ``numSamples``), >= 1.
        params: the round's ring parameters.

    Returns:
        A new ``uint64`` array of the same length.

    Raises:
        FixedPointRangeError: a NaN or infinity, or an encoded magnitude above ``params.limit``.
        FixedPointError: a weight that is not a positive int, or a non 1-D input.
    """
    if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
        raise FixedPointError(f"weight must be a positive int, got {weight!r}")
    array = np.asarray(values)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.floating):
        raise FixedPointError("values must be a 1-D floating array")
    scaled = np.multiply(array, float(weight), dtype=np.float64)  # exact up to float64 rounding
    np.ldexp(scaled, params.frac_bits, out=scaled)  # exact: a power-of-two scale
    np.rint(scaled, out=scaled)
    if not np.isfinite(scaled).all():
        raise FixedPointRangeError("update holds NaN or infinite values")
    peak = float(np.abs(scaled).max()) if scaled.size else 0.0
    if peak > params.limit:  # float(limit) may round up, but peak is an integer <= 2^63
        raise FixedPointRangeError(
            f"encoded magnitude {peak:.6g} exceeds the per-update limit {params.limit} "
            f"(|weight * value| must stay below {params.limit / 2**params.frac_bits:.6g})")
    return scaled.astype(np.int64).view(np.uint64)


def decode_sum(ring_sum: np.ndarray, params: RingParams) -> np.ndarray:
    """The float64 weighted sum a ring sum of at most ``max_members`` encodings stands for.

    Raises:
        FixedPointError: not a 1-D ``uint64`` array.
    """
    if ring_sum.ndim != 1 or ring_sum.dtype != np.uint64:
        raise FixedPointError("ring sum must be a 1-D uint64 array")
    signed = ring_sum.view(np.int64).astype(np.float64)
    return np.ldexp(signed, -params.frac_bits)
