"""UnixFS DAG builder and verifying reader, held to CIDs recorded from a real node."""

from __future__ import annotations

import hashlib

import pytest

from ledger import unixfs
from ledger.cid import DAG_PB, RAW, Cid
from ledger.content_errors import BlockNotFoundError, CidMismatchError
from ledger.dag_pb import MalformedNodeError, decode_node, decode_unixfs, encode_file_node
from ledger.unixfs import CHUNK_SIZE, build_dag, cid_of, read_file
from tests.ledger.cid_vectors import HELLO_WORLD_V0, VECTORS, cycle, vector_input


@pytest.mark.parametrize("name", list(VECTORS))
def test_cid_of_matches_the_recorded_vector(name: str) -> None:
    assert str(cid_of(vector_input(name))) == VECTORS[name]


def test_bytearray_and_memoryview_inputs_give_the_same_cid() -> None:
    data = cycle(CHUNK_SIZE + 1)

    assert cid_of(bytearray(data)) == cid_of(memoryview(data)) == cid_of(data)


@pytest.mark.parametrize(
    ("name", "leaves", "internal"),
    [
        ("empty", 1, 0),
        ("one_chunk", 1, 0),
        ("one_chunk_plus_1", 2, 1),
        ("chunks_174", 174, 1),
        ("chunks_174_plus_1", 175, 3),  # two level-1 nodes under a new root
    ],
)
def test_build_dag_shape(name: str, leaves: int, internal: int) -> None:
    root, blocks = build_dag(vector_input(name))

    assert str(root) == VECTORS[name]
    assert blocks[-1][0] == root
    assert sum(cid.codec == RAW for cid, _ in blocks) == leaves
    assert sum(cid.codec == DAG_PB for cid, _ in blocks) == internal
    for cid, block in blocks:
        assert hashlib.sha256(block).digest() == cid.digest


def test_fan_out_boundary_root_links_a_full_and_a_one_leaf_subtree() -> None:
    data = vector_input("chunks_174_plus_1")
    _, blocks = build_dag(data)
    by_cid = dict(blocks)

    root = decode_node(blocks[-1][1])
    meta = decode_unixfs(root.data)

    assert meta.type == 2  # File
    assert meta.filesize == len(data)
    assert meta.blocksizes == (174 * CHUNK_SIZE, 1)
    full, tail = (decode_node(by_cid[link.cid]) for link in root.links)
    assert len(full.links) == 174
    assert len(tail.links) == 1
    assert decode_unixfs(tail.data).blocksizes == (1,)
    # Tsize of a link is the serialized size of the whole subtree below it.
    assert root.links[1].tsize == len(by_cid[root.links[1].cid]) + 1
    assert sum(link.tsize for link in root.links) + len(blocks[-1][1]) == sum(
        len(block) for _, block in blocks
    )


def test_internal_node_bytes_are_canonical_dag_pb() -> None:
    leaf = Cid.of_block(RAW, b"ab")

    node = encode_file_node([(leaf, 2, 2), (leaf, 2, 2)])

    link = b"\x0a\x24" + leaf.to_bytes() + b"\x12\x00" + b"\x18\x02"  # Hash, Name "", Tsize
    unixfs_data = b"\x08\x02" + b"\x18\x04" + b"\x20\x02" * 2  # File, filesize, blocksizes
    assert node == (b"\x12\x2a" + link) * 2 + b"\x0a\x08" + unixfs_data


def test_deeper_trees_follow_the_balanced_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    # Same rules at toy scale: 4-byte chunks, 2 links per node, 17 bytes -> 5 leaves,
    # 3 nodes on level 1, 2 on level 2, one root (depth 3).
    monkeypatch.setattr(unixfs, "CHUNK_SIZE", 4)
    monkeypatch.setattr(unixfs, "MAX_LINKS", 2)
    data = bytes(range(17))

    root, blocks = build_dag(data)

    assert [cid.codec for cid, _ in blocks] == [RAW] * 5 + [DAG_PB] * 6
    assert decode_unixfs(decode_node(blocks[-1][1]).data).blocksizes == (16, 1)
    assert read_file(root, dict(blocks).__getitem__) == data


@pytest.mark.parametrize("name", ["empty", "hello_world", "one_chunk_plus_1", "zeros_3mb"])
def test_read_file_reassembles_what_build_dag_built(name: str) -> None:
    data = vector_input(name)
    root, blocks = build_dag(data)

    assert read_file(root, dict(blocks).__getitem__) == data


def test_read_file_accepts_kubo_default_dag_pb_leaves() -> None:
    # `ipfs add` without --raw-leaves puts the bytes inside a dag-pb File node; this
    # is that node, byte for byte, so it must hash to kubo's CIDv0 vector.
    node = b"\x0a\x12" + b"\x08\x02" + b"\x12\x0c" + b"hello world\n" + b"\x18\x0c"
    root = Cid.parse(HELLO_WORLD_V0)

    assert Cid.of_block(DAG_PB, node) == root
    assert read_file(root, {root: node}.__getitem__) == b"hello world\n"


def test_a_tampered_leaf_raises_cid_mismatch_naming_the_leaf() -> None:
    root, blocks = build_dag(cycle(CHUNK_SIZE + 1))
    store = dict(blocks)
    leaf = blocks[1][0]
    store[leaf] = b"X" + store[leaf][1:]

    with pytest.raises(CidMismatchError) as info:
        read_file(root, store.__getitem__, source="test")

    assert info.value.expected == str(leaf)
    assert info.value.actual == str(Cid.of_block(RAW, store[leaf]))
    assert "test" in str(info.value)


def test_a_missing_block_propagates_the_fetchers_error() -> None:
    root, blocks = build_dag(cycle(CHUNK_SIZE + 1))
    store = dict(blocks[1:])

    def fetch(cid: Cid) -> bytes:
        if cid not in store:
            raise BlockNotFoundError(cid)
        return store[cid]

    with pytest.raises(BlockNotFoundError) as info:
        read_file(root, fetch)

    assert info.value.cid == str(blocks[0][0])


def test_a_node_whose_sizes_do_not_add_up_is_malformed() -> None:
    leaf = Cid.of_block(RAW, b"abc")
    node = encode_file_node([(leaf, 4, 3)])  # claims 4 bytes, the leaf holds 3
    root = Cid.of_block(DAG_PB, node)

    with pytest.raises(MalformedNodeError, match="declares 4 bytes but its blocks hold 3"):
        read_file(root, {root: node, leaf: b"abc"}.__getitem__)


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        (b"\x0a\x05ab", "runs past the end"),
        (b"\x0d\x00\x00\x00\x00", "unsupported wire type 5"),
        (b"\x0a\x02\x08\x01", "UnixFS type 1 is not a file"),  # a directory
        (b"\x1a\x00", "unknown PBNode field 3"),
        (b"\x0a\x00", "UnixFS Data without a Type"),
        (b"\x0a\x02\x08\xff", "truncated or overlong varint"),
    ],
)
def test_garbage_that_hashes_correctly_is_malformed(block: bytes, reason: str) -> None:
    root = Cid.of_block(DAG_PB, block)

    with pytest.raises(MalformedNodeError, match=reason):
        read_file(root, {root: block}.__getitem__)
