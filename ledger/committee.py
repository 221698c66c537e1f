"""Off-chain reproduction of the stake-weighted seat draw (``contracts/market/StakeSeats.sol``).

Members' join stakes tile ``[0, total_stake)`` in join order: member i owns
``[start_i, start_i + stake_i)`` (``Joined`` events, or ``FedMarket.member``). Seat ``j`` of a draw
from ``seed`` is the point ``uint256(keccak256(abi.encode(seed, j))) % total_stake`` and belongs to
the member whose interval holds it. Seats are drawn with replacement: the seats of a party with
stake fraction f are Binomial(k, f) however it splits its stake over accounts.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from eth_abi import encode
from eth_utils import keccak

from ledger.errors import LedgerError

__all__ = ["CommitteeError", "seat_owners", "seat_points", "seats_in"]


class CommitteeError(LedgerError):
    """A draw that cannot be made (no stake, a bad seed, mismatched lists)."""


def seat_points(seed: bytes, k: int, total_stake: int) -> list[int]:
    """The points of seats ``0..k-1``.

    Raises:
        CommitteeError: a seed that is not 32 bytes, ``k < 0`` or no stake.
    """
    if len(seed) != 32:
        raise CommitteeError(f"a seed is 32 bytes, not {len(seed)}")
    if k < 0 or total_stake <= 0:
        raise CommitteeError(f"cannot draw {k} seats from a total stake of {total_stake}")
    return [int.from_bytes(keccak(encode(["bytes32", "uint256"], [seed, j])), "big") % total_stake
            for j in range(k)]


def seats_in(seed: bytes, k: int, total_stake: int, start: int, stake: int) -> int:
    """Seats falling in ``[start, start + stake)``, as ``StakeSeats.seatsIn`` counts them."""
    if stake == 0 or total_stake == 0:
        return 0
    return sum(start <= p < start + stake for p in seat_points(seed, k, total_stake))


def seat_owners(seed: bytes, k: int, members: Sequence[str], stakes: Sequence[int]) -> list[str]:
    """The owner of each seat, seat by seat, exactly as ``FedMarket.committee`` returns them.

    Args:
        seed: the draw's 32-byte seed (``SeedLocked`` / ``DisputeSeedLocked``).
        k: the number of seats.
        members: all members in join order.
        stakes: their join stakes, same order.

    Raises:
        CommitteeError: a bad seed, no stake, or lists of different lengths.
    """
    if len(members) != len(stakes):
        raise CommitteeError(f"{len(members)} members but {len(stakes)} stakes")
    starts, total = [], 0
    for stake in stakes:
        starts.append(total)
        total += stake
    return [members[bisect_right(starts, p) - 1] for p in seat_points(seed, k, total)]
