"""Reward Merkle trees, identical to OpenZeppelin's ``StandardMerkleTree`` for ``(address, uint256)``.

The committee computes each round's rewards off chain as ``(account, amount)`` pairs and agrees on
the tree's root; members claim with a proof that ``FedMarket.claim`` checks with OpenZeppelin's
``MerkleProof``. Layout rules (``@openzeppelin/merkle-tree`` ``StandardMerkleTree.of`` with its
default ``sortLeaves: true``):

- leaf = ``keccak256(keccak256(abi.encode(account, amount)))`` (double hashed, so a leaf can never
  be mistaken for an inner node);
- leaves sorted by hash ascending, stored at the end of a ``2n - 1`` array in reverse order;
- node ``i`` = ``keccak256(sorted(child 2i+1, child 2i+2))`` (sorted pairs: proofs need no
  left/right flags);
- a proof is the list of siblings from the leaf up to (not including) the root.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from ledger.errors import LedgerError

__all__ = ["MerkleError", "RewardTree", "build_reward_tree", "leaf_hash", "verify_proof"]

_UINT256_MAX = 2**256 - 1


class MerkleError(LedgerError):
    """A reward list that cannot form a tree (empty, duplicate account, bad amount) or an unknown account."""


def leaf_hash(account: str, amount: int) -> bytes:
    """The double-hashed leaf of ``(account, amount)``, as ``FedMarket.claim`` computes it.

    Raises:
        MerkleError: ``amount`` outside uint256 or ``account`` not an address.
    """
    if not 0 <= amount <= _UINT256_MAX:
        raise MerkleError(f"amount {amount} is not a uint256")
    try:
        checksum = to_checksum_address(account)
    except (ValueError, TypeError) as err:
        raise MerkleError(f"not an address: {account!r}") from err
    return keccak(keccak(encode(["address", "uint256"], [checksum, amount])))


def _hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a <= b else keccak(b + a)


def verify_proof(root: bytes, account: str, amount: int, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` proves ``(account, amount)`` under ``root`` (OpenZeppelin MerkleProof.verify)."""
    node = leaf_hash(account, amount)
    for sibling in proof:
        node = _hash_pair(node, sibling)
    return node == root


@dataclass(frozen=True)
class RewardTree:
    """A built tree.

    Attributes:
        nodes: the ``2n - 1`` node hashes, root first (OpenZeppelin's ``dump().tree``).
        entries: the ``(checksum account, amount)`` pairs in the order given.
        tree_index: for each entry (same order), the index of its leaf in ``nodes``.
    """

    nodes: tuple[bytes, ...]
    entries: tuple[tuple[str, int], ...]
    tree_index: tuple[int, ...]

    @property
    def root(self) -> bytes:
        """The 32-byte root, as passed to ``reveal``."""
        return self.nodes[0]

    @property
    def total(self) -> int:
        """The sum of all amounts (must not exceed the round's budget)."""
        return sum(amount for _, amount in self.entries)

    def amount_of(self, account: str) -> int:
        """The amount of ``account``.

        Raises:
            MerkleError: ``account`` has no leaf.
        """
        return self.entries[self._position(account)][1]

    def proof(self, account: str) -> list[bytes]:
        """The sibling hashes from ``account``'s leaf up to the root.

        Raises:
            MerkleError: ``account`` has no leaf.
        """
        index = self.tree_index[self._position(account)]
        proof = []
        while index > 0:
            sibling = index + 1 if index % 2 == 1 else index - 1
            proof.append(self.nodes[sibling])
            index = (index - 1) // 2
        return proof

    def _position(self, account: str) -> int:
        try:
            wanted = to_checksum_address(account)
        except (ValueError, TypeError) as err:
            raise MerkleError(f"not an address: {account!r}") from err
        for position, (entry_account, _) in enumerate(self.entries):
            if entry_account == wanted:
                return position
        raise MerkleError(f"{wanted} has no reward leaf")


def build_reward_tree(rewards: Iterable[tuple[str, int]]) -> RewardTree:
    """Build the tree of ``(account, amount)`` pairs.

    Args:
        rewards: one pair per account; order does not change the root.

    Returns:
        The tree (root, proofs).

    Raises:
        MerkleError: no entries, an account listed twice, a bad address or amount.
    """
    entries = []
    seen = set()
    for account, amount in rewards:
        try:
            checksum = to_checksum_address(account)
        except (ValueError, TypeError) as err:
            raise MerkleError(f"not an address: {account!r}") from err
        if checksum in seen:
            raise MerkleError(f"{checksum} is listed twice")
        seen.add(checksum)
        entries.append((checksum, int(amount)))
    if not entries:
        raise MerkleError("a reward tree needs at least one entry")
    hashes = [leaf_hash(account, amount) for account, amount in entries]
    order = sorted(range(len(hashes)), key=lambda i: hashes[i])
    size = 2 * len(hashes) - 1
    nodes: list[bytes] = [b""] * size
    tree_index = [0] * len(hashes)
    for rank, entry in enumerate(order):
        nodes[size - 1 - rank] = hashes[entry]
        tree_index[entry] = size - 1 - rank
    for i in range(size - 1 - len(hashes), -1, -1):
        nodes[i] = _hash_pair(nodes[2 * i + 1], nodes[2 * i + 2])
    return RewardTree(nodes=tuple(nodes), entries=tuple(entries), tree_index=tuple(tree_index))
