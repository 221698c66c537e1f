"""LocalStore: kubo-identical CIDs, verified reads, atomic multi-process writes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from ledger.cid import Cid
from ledger.content_errors import BlockNotFoundError, CidMismatchError
from ledger.ipfs_store import IpfsStore
from ledger.local_store import LocalStore
from ledger.store import ContentStore
from ledger.stores import open_store
from ledger.unixfs import CHUNK_SIZE, build_dag
from tests.ledger.cid_vectors import VECTORS, cycle, vector_input


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.mark.parametrize(
    "name", ["empty", "one_byte", "hello_world", "one_chunk", "one_chunk_plus_1", "random_5mb"]
)
def test_put_returns_the_recorded_cid_and_get_returns_the_bytes(
    store: LocalStore, name: str
) -> None:
    data = vector_input(name)

    cid = store.put(data)

    assert str(cid) == VECTORS[name]
    assert store.get(cid) == data
    assert store.has(cid)


def test_every_block_is_one_file_named_by_its_cid(store: LocalStore) -> None:
    data = cycle(2 * CHUNK_SIZE + 5)
    root, blocks = build_dag(data)

    store.put(data)

    names = sorted(p.name for p in (store.root / "blocks").rglob("*") if p.is_file())
    assert names == sorted(str(cid) for cid, _ in blocks)
    for cid, block in blocks:
        assert store.block_path(cid).read_bytes() == block
    assert store.pins() == [root]


def test_a_flipped_byte_in_a_leaf_file_makes_get_fail(store: LocalStore) -> None:
    cid = store.put(cycle(3 * CHUNK_SIZE))
    _, blocks = build_dag(cycle(3 * CHUNK_SIZE))
    leaf_path = store.block_path(blocks[1][0])
    corrupted = bytearray(leaf_path.read_bytes())
    corrupted[1000] ^= 0x01
    leaf_path.write_bytes(corrupted)

    with pytest.raises(CidMismatchError) as info:
        store.get(cid)

    assert info.value.expected == str(blocks[1][0])


def test_a_flipped_byte_in_the_root_node_makes_get_fail(store: LocalStore) -> None:
    cid = store.put(cycle(CHUNK_SIZE + 1))
    path = store.block_path(cid)
    corrupted = bytearray(path.read_bytes())
    corrupted[-1] ^= 0x01
    path.write_bytes(corrupted)

    with pytest.raises(CidMismatchError) as info:
        store.get(cid)

    assert info.value.expected == str(cid)
    path.write_bytes(b"\x0d garbage")  # no longer parses as dag-pb at all
    assert not store.has(cid)


def test_a_flipped_byte_in_a_single_block_file_makes_get_fail(store: LocalStore) -> None:
    cid = store.put(b"hello world\n")
    store.block_path(cid).write_bytes(b"hello world!")

    with pytest.raises(CidMismatchError, match=str(cid)):
        store.get(cid)


def test_putting_again_repairs_a_corrupted_block(store: LocalStore) -> None:
    data = cycle(CHUNK_SIZE + 1)
    cid = store.put(data)
    store.block_path(cid).write_bytes(b"garbage")

    assert store.put(data) == cid
    assert store.get(cid) == data


def test_a_missing_block_raises_block_not_found_naming_it(store: LocalStore) -> None:
    data = cycle(CHUNK_SIZE + 1)
    cid = store.put(data)
    _, blocks = build_dag(data)
    missing = blocks[1][0]
    store.block_path(missing).unlink()

    with pytest.raises(BlockNotFoundError) as info:
        store.get(cid)

    assert info.value.cid == str(missing)
    assert not store.has(cid)


def test_unknown_content_is_not_found_and_cannot_be_pinned(store: LocalStore) -> None:
    cid = Cid.parse(VECTORS["random_5mb"])

    assert not store.has(cid)
    with pytest.raises(BlockNotFoundError, match=str(cid)):
        store.get(cid)
    with pytest.raises(BlockNotFoundError, match="cannot pin"):
        store.pin(cid)


def test_a_reopened_store_serves_what_was_put(tmp_path: Path) -> None:
    with LocalStore(tmp_path) as first:
        cid = first.put(b"persisted")

    with LocalStore(tmp_path) as second:
        assert second.get(cid) == b"persisted"
        assert second.pins() == [cid]


def _put_in_child(root: str, seed: int) -> str:
    data = _concurrent_payload(seed)
    store = LocalStore(root)
    cid = store.put(data)
    assert store.get(cid) == data  # read while the others are still writing
    return str(cid)


def _concurrent_payload(seed: int) -> bytes:
    # Every payload shares its first 4 chunks with the others: the same block files
    # are written by several processes at once.
    return cycle(4 * CHUNK_SIZE) + bytes([seed]) * (CHUNK_SIZE + seed)


def test_concurrent_puts_from_several_processes_leave_a_consistent_store(tmp_path: Path) -> None:
    root = str(tmp_path / "shared")
    seeds = [1, 2, 3, 4]

    context = multiprocessing.get_context("spawn")
    with context.Pool(len(seeds)) as pool:
        cids = pool.starmap(_put_in_child, [(root, seed) for seed in seeds])

    store = LocalStore(root)
    for seed, text in zip(seeds, cids, strict=True):
        assert store.get(Cid.parse(text)) == _concurrent_payload(seed)
    assert sorted(store.pins()) == sorted(Cid.parse(text) for text in cids)
    assert list(Path(root).rglob("*.tmp")) == []
    # 4 shared leaves + per payload 2 own leaves and 1 root (the 2nd own leaf holds `seed` bytes)
    assert sum(1 for p in Path(root, "blocks").rglob("*") if p.is_file()) == 4 + 3 * len(seeds)


def test_open_store_picks_the_implementation_from_the_spec(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "dir")) as local:
        assert isinstance(local, LocalStore)
    with open_store("http://127.0.0.1:5001") as remote:
        assert isinstance(remote, IpfsStore)
        assert remote.api_url == "http://127.0.0.1:5001"
    assert issubclass(LocalStore, ContentStore)
