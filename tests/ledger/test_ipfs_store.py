"""IpfsStore against a real js-ipfs node (started by the ``ipfs_node`` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.cid import Cid
from ledger.content_errors import (
    BlockNotFoundError,
    CidMismatchError,
    StoreUnavailableError,
)
from ledger.ipfs_store import IpfsStore
from ledger.local_store import LocalStore
from ledger.unixfs import CHUNK_SIZE, cid_of
from node.demo.ipfs_daemon import IpfsDaemonError, JsIpfsDaemon, free_port
from tests.ledger.cid_vectors import HELLO_WORLD_V0, VECTORS, cycle, vector_input

_KUBO_FLAGS = {"cid-version": 1, "raw-leaves": "true", "chunker": "size-262144"}


@pytest.mark.parametrize("name", list(VECTORS))
def test_the_node_gives_the_recorded_cid_for_every_vector(ipfs_store: IpfsStore, name: str) -> None:
    data = vector_input(name)

    # Ask the node directly, so its answer is compared without IpfsStore's cross-check.
    answer = ipfs_store._client.add_bytes(data, opts=_KUBO_FLAGS)

    assert str(Cid.parse(answer)) == VECTORS[name]
    assert str(cid_of(data)) == VECTORS[name]


@pytest.mark.parametrize("name", ["empty", "hello_world", "one_chunk_plus_1", "random_5mb"])
def test_put_then_get_round_trips_and_pins(ipfs_store: IpfsStore, name: str) -> None:
    data = vector_input(name)

    cid = ipfs_store.put(data)

    assert str(cid) == VECTORS[name]
    assert ipfs_store.get(cid) == data
    assert ipfs_store.has(cid)
    pins = ipfs_store._client.pin.ls(str(cid))["Keys"]
    assert [Cid.parse(key) for key in pins] == [cid]


def test_local_and_ipfs_stores_name_content_identically(
    ipfs_store: IpfsStore, tmp_path: Path
) -> None:
    data = cycle(3 * CHUNK_SIZE + 7)

    assert LocalStore(tmp_path).put(data) == ipfs_store.put(data)


def test_get_reads_content_added_with_kubo_defaults(ipfs_store: IpfsStore) -> None:
    # CIDv0 with dag-pb leaves: the cat fast path cannot re-derive it, so the store
    # walks and verifies the blocks instead.
    assert ipfs_store._client.add_bytes(b"hello world\n") == HELLO_WORLD_V0

    assert ipfs_store.get(Cid.parse(HELLO_WORLD_V0)) == b"hello world\n"


def test_get_rejects_wrong_bytes_from_the_node(
    ipfs_store: IpfsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = cycle(CHUNK_SIZE + 1)
    cid = ipfs_store.put(data)
    monkeypatch.setattr(ipfs_store._client, "cat", lambda *_a, **_k: b"forged" + data[6:])
    real_get = ipfs_store._client.block.get

    def tampered_block_get(cid_text: str, **kwargs: object) -> bytes:
        block = real_get(cid_text, **kwargs)
        return block if Cid.parse(cid_text) == cid else b"forged" + block[6:]

    # The cat bytes do not match, the blocks do: the verified block walk wins.
    assert ipfs_store.get(cid) == data

    monkeypatch.setattr(ipfs_store._client.block, "get", tampered_block_get)
    with pytest.raises(CidMismatchError) as info:
        ipfs_store.get(cid)
    assert info.value.expected != str(cid)  # names the forged leaf, not the root
    assert ipfs_store.api_url in str(info.value)


def test_put_refuses_a_cid_it_cannot_reproduce(
    ipfs_store: IpfsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = VECTORS["one_byte"]
    monkeypatch.setattr(ipfs_store._client, "add_bytes", lambda *_a, **_k: other)

    with pytest.raises(CidMismatchError) as info:
        ipfs_store.put(b"hello world\n")

    assert info.value.expected == VECTORS["hello_world"]
    assert info.value.actual == other


def test_missing_content_is_not_found_within_the_timeout(ipfs_node: JsIpfsDaemon) -> None:
    missing = cid_of(b"content nobody added")

    with IpfsStore(ipfs_node.api_url, timeout=1.0) as store:
        assert not store.has(missing)
        with pytest.raises(BlockNotFoundError) as info:
            store.get(missing)
        assert info.value.cid == str(missing)
        assert ipfs_node.api_url in str(info.value)
        with pytest.raises(BlockNotFoundError):
            store.pin(missing)


def test_pin_keeps_existing_content(ipfs_store: IpfsStore) -> None:
    cid = ipfs_store.put(b"to be pinned again")

    ipfs_store.pin(cid)

    assert str(cid) in {str(Cid.parse(k)) for k in ipfs_store._client.pin.ls(str(cid))["Keys"]}


def test_unpin_releases_a_pin_and_the_store_reports_what_it_holds(ipfs_store: IpfsStore) -> None:
    kept, released = ipfs_store.put(b"kept for the task"), ipfs_store.put(b"an old round's")
    absent = cid_of(b"never added to this node")
    assert ipfs_store.pinned([kept, released, absent]) == {kept, released}
    ipfs_store.unpin(released)
    ipfs_store.unpin(released)  # idempotent: retention may run twice after a restart
    assert ipfs_store.pinned([kept, released, absent]) == {kept}
    assert ipfs_store.held([kept, released, absent]) == {kept, released}  # until a GC


def test_a_dead_port_raises_store_unavailable_fast() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    with IpfsStore(url, timeout=30.0) as store, pytest.raises(StoreUnavailableError) as info:
        store.put(b"nobody listens")

    # Refused at once ("cannot connect"), not waited out ("no answer within 35 s"); how
    # fast that is belongs in scripts/bench_store.py, not in a timed test.
    assert info.value.url == url
    assert "add: cannot connect" in str(info.value) and "Connection refused" in str(info.value)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:5001", "http://127.0.0.1", "localhost:5001"])
def test_a_url_that_is_not_an_api_address_is_rejected(url: str) -> None:
    with pytest.raises(StoreUnavailableError, match="expected an API URL"):
        IpfsStore(url)


def test_daemon_without_js_ipfs_says_how_to_install_it(tmp_path: Path) -> None:
    daemon = JsIpfsDaemon(tmp_path / "repo", node_dir=tmp_path / "nowhere")

    with pytest.raises(IpfsDaemonError, match="run `make setup-ipfs`"):
        daemon.start()
    with pytest.raises(IpfsDaemonError, match="not running"):
        _ = daemon.api_url


def test_the_fixture_node_serves_its_api_on_loopback(ipfs_node: JsIpfsDaemon) -> None:
    assert ipfs_node.api_url.startswith("http://127.0.0.1:")
