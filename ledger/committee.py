"""Off-chain reproduction of a round's committee draw (``contracts/market/CommitteeDraw.sol``).

The contract gives each attempt of a round a seed (``FedMarket.committeeSeed``), and draws k
distinct member indices from it: pick ``j`` (``j = 0..k-1``) is the first
``uint256(keccak256(abi.encode(seed, j, ctr))) % n`` for ``ctr = 0, 1, ...`` not already picked.
``members`` is the task's member list in join order (``FedMarket.members`` or ``Joined`` events).
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode
from eth_utils import keccak

from ledger.errors import LedgerError

__all__ = ["CommitteeError", "committee_seed", "draw_committee", "draw_indices"]


class CommitteeError(LedgerError):
    """A committee that cannot be drawn (fewer members than seats, a bad seed)."""


def committee_seed(seed_base: bytes, round_: int, attempt: int) -> bytes:
    """The seed of (round, attempt): ``keccak256(abi.encode(seedBase, round, attempt))``."""
    return keccak(encode(["bytes32", "uint256", "uint256"], [seed_base, round_, attempt]))


def draw_indices(seed: bytes, n: int, k: int) -> list[int]:
    """The committee's member indices (0-based join order), in draw order.

    Raises:
        CommitteeError: ``n < k``, ``k < 0`` or a seed that is not 32 bytes.
    """
    if len(seed) != 32:
        raise CommitteeError(f"a seed is 32 bytes, not {len(seed)}")
    if k < 0 or n < k:
        raise CommitteeError(f"cannot draw {k} of {n} members")
    picked: list[int] = []
    for j in range(k):
        ctr = 0
        while True:
            word = keccak(encode(["bytes32", "uint256", "uint256"], [seed, j, ctr]))
            candidate = int.from_bytes(word, "big") % n
            if candidate not in picked:
                picked.append(candidate)
                break
            ctr += 1
    return picked


def draw_committee(seed: bytes, members: Sequence[str], k: int) -> list[str]:
    """The committee's addresses, in draw order, exactly as ``FedMarket.committee`` returns them.

    Args:
        seed: the attempt's 32-byte seed (``FedMarket.committeeSeed(task, round, attempt)``).
        members: all members in join order.
        k: the committee size.

    Raises:
        CommitteeError: fewer members than seats or a bad seed.
    """
    return [members[i] for i in draw_indices(seed, len(members), k)]
