"""ledger.merkle against OpenZeppelin StandardMerkleTree vectors."""

from __future__ import annotations

import random

import pytest

from ledger.merkle import MerkleError, build_reward_tree, leaf_hash, verify_proof

A = "0x1111111111111111111111111111111111111111"
B = "0x2222222222222222222222222222222222222222"


def test_openzeppelin_readme_vector():
    # @openzeppelin/merkle-tree README: StandardMerkleTree.of(values, ["address", "uint256"]).dump()
    tree = build_reward_tree([(A, 5 * 10**18), (B, 25 * 10**17)])
    assert [n.hex() for n in tree.nodes] == [
        "d4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77",
        "eb02c421cfa48976e66dfb29120745909ea3a0f843456c263cf8f1253483e283",
        "b92c48e9d7abe27fd8dfd6b5dfdbfb1c9a463f80c712b66f3a5180a090cccafc",
    ]
    assert tree.tree_index == (1, 2)
    assert tree.proof(A) == [tree.nodes[2]]
    assert leaf_hash(A, 5 * 10**18) == tree.nodes[1]
    assert tree.total == 75 * 10**17


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
def test_every_proof_verifies_and_order_does_not_matter(n):
    rnd = random.Random(n)
    entries = [("0x" + rnd.randbytes(20).hex(), rnd.randint(0, 10**20)) for _ in range(n)]
    tree = build_reward_tree(entries)
    assert build_reward_tree(reversed(entries)).root == tree.root
    for account, amount in entries:
        assert verify_proof(tree.root, account, amount, tree.proof(account))
        assert not verify_proof(tree.root, account, amount + 1, tree.proof(account))
    assert len(tree.nodes) == 2 * n - 1


def test_bad_inputs_are_typed_errors():
    with pytest.raises(MerkleError, match="at least one"):
        build_reward_tree([])
    with pytest.raises(MerkleError, match="twice"):
        build_reward_tree([(A, 1), (A.lower(), 2)])
    with pytest.raises(MerkleError, match="uint256"):
        build_reward_tree([(A, -1)])
    with pytest.raises(MerkleError, match="not an address"):
        build_reward_tree([("0x12", 1)])
    with pytest.raises(MerkleError, match="no reward leaf"):
        build_reward_tree([(A, 1)]).proof(B)
