"""Off-chain reproduction of a round's cohort draw (``contracts/market/CohortDraw.sol``).

A task with ``cohort_size`` K > 0 lets only K members train each round. Round r's cohort is the
first K positions of a pseudo-random permutation of the member indices ``[0, n)`` keyed by the
round's cohort seed (``CohortDrawn`` event, ``FedMarket.cohort_seed``): member i trains iff
``position(seed, i, n) < K``. The permutation is a 4-round unbalanced Feistel network on the
smallest bit width b >= 2 with ``2**b >= n`` (a high part of b - b//2 bits, a low part of b//2;
even rounds xor the high part with ``keccak256(abi.encode(seed, round, low))`` cut to its width,
odd rounds the low part with the hash of the high part), restricted to ``[0, n)`` by cycle
walking (fewer than 2 steps expected).

The contract only ever evaluates ``position`` for one member (O(1) per submission); listing the
cohort here inverts the permutation for positions ``0..K-1``, so it costs O(K) hashes whatever n is.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils import keccak

from ledger.errors import LedgerError

__all__ = ["FEISTEL_ROUNDS", "CohortError", "cohort_indices", "cohort_members", "in_cohort",
           "position"]

FEISTEL_ROUNDS = 4


class CohortError(LedgerError):
    """A draw that cannot be made (a bad seed, an index outside the members)."""


def _widths(n: int) -> tuple[int, int]:
    """(low bits, high bits) of the permutation's domain for n members."""
    bits = 2
    while (1 << bits) < n:
        bits += 1
    return bits // 2, bits - bits // 2


def _round_function(seed: bytes, i: int, value: int, width: int) -> int:
    word = keccak(seed + i.to_bytes(32, "big") + value.to_bytes(32, "big"))
    return int.from_bytes(word, "big") & ((1 << width) - 1)


def _permute(seed: bytes, x: int, widths: tuple[int, int], inverse: bool) -> int:
    low_bits, high_bits = widths
    high, low = x >> low_bits, x & ((1 << low_bits) - 1)
    order = reversed(range(FEISTEL_ROUNDS)) if inverse else range(FEISTEL_ROUNDS)
    for i in order:  # each round is its own inverse (an xor): undo them in reverse order
        if i % 2 == 0:
            high ^= _round_function(seed, i, low, high_bits)
        else:
            low ^= _round_function(seed, i, high, low_bits)
    return (high << low_bits) | low


def _walk(seed: bytes, x: int, n: int, inverse: bool) -> int:
    if len(seed) != 32:
        raise CohortError(f"a cohort seed is 32 bytes, not {len(seed)}")
    if not 0 <= x < n:
        raise CohortError(f"index {x} is outside [0, {n})")
    widths = _widths(n)
    x = _permute(seed, x, widths, inverse)
    while x >= n:  # cycle walking: x's cycle holds the start, which is < n
        x = _permute(seed, x, widths, inverse)
    return x


def position(seed: bytes, index: int, n: int) -> int:
    """Where member ``index`` lands in the seed's permutation of ``[0, n)``, as ``CohortDraw.position``."""
    return _walk(seed, index, n, inverse=False)


def in_cohort(seed: bytes, index: int, n: int, k: int) -> bool:
    """Whether member ``index`` is among the ``k`` drawn of ``n`` (``CohortDraw.contains``)."""
    if not 0 <= index < n:
        raise CohortError(f"index {index} is outside [0, {n})")
    return k >= n or position(seed, index, n) < k


def cohort_indices(seed: bytes, n: int, k: int) -> list[int]:
    """The drawn member indices in position order (all of them, in join order, when ``k >= n``)."""
    if n < 0 or k < 0:
        raise CohortError(f"cannot draw {k} of {n} members")
    if k >= n:
        return list(range(n))
    return [_walk(seed, j, n, inverse=True) for j in range(k)]


def cohort_members(seed: bytes, members: Sequence[str], k: int) -> list[str]:
    """The drawn members' addresses (``members`` in join order), in position order."""
    return [members[i] for i in cohort_indices(seed, len(members), k)]
