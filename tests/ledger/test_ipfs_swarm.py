"""Separate IPFS nodes exchanging content by bitswap (real js-ipfs daemons, one repo each).

What every p2p test and the per-node demo rely on: content added on one node is fetched,
verified, from another; a peer that fetched content serves it when its publisher is gone;
a fetch that times out mid-file does not kill the fetching daemon (the preload's guard); a
restarted node keeps its peer id, ports and pins and is dialled again.
"""

from __future__ import annotations

import pytest

from ledger.content_errors import BlockNotFoundError, StoreUnavailableError
from ledger.ipfs_store import IpfsStore
from ledger.unixfs import cid_of
from node.demo.ipfs_daemon import IpfsDaemonError, JsIpfsDaemon
from node.demo.ipfs_swarm import IpfsSwarm
from tests.ledger.cid_vectors import VECTORS, vector_input

pytestmark = pytest.mark.timeout(240)


def _store(swarm: IpfsSwarm, name: str, timeout: float = 20.0) -> IpfsStore:
    return IpfsStore(swarm[name].api_url, timeout=timeout)


def test_every_node_has_its_own_repo_ports_and_peer_id(ipfs_swarm: IpfsSwarm) -> None:
    nodes = list(ipfs_swarm.nodes.values())
    assert len({n.repo_dir for n in nodes}) == 3
    assert len({n.api_url for n in nodes}) == 3
    assert len({n.peer_id for n in nodes}) == 3
    assert all(n.swarm_address.startswith("/ip4/127.0.0.1/tcp/") for n in nodes)
    peers = ipfs_swarm["alice"].rpc("swarm/peers")
    dialled = {p["Peer"] for p in peers["Peers"]}
    assert dialled == {ipfs_swarm["bob"].peer_id, ipfs_swarm["carol"].peer_id}


@pytest.mark.parametrize("name", ["hello_world", "one_chunk_plus_1", "random_5mb"])
def test_content_added_on_one_node_is_fetched_from_another(ipfs_swarm: IpfsSwarm,
                                                           name: str) -> None:
    data = vector_input(name)
    alice, bob = _store(ipfs_swarm, "alice"), _store(ipfs_swarm, "bob")
    cid = alice.put(data)
    assert str(cid) == VECTORS[name]
    assert bob.get(cid) == data


def test_a_node_holds_only_what_it_added_or_fetched(ipfs_swarm: IpfsSwarm) -> None:
    data = b"only alice added this, only bob fetched it"
    alice, bob, carol = (_store(ipfs_swarm, n) for n in ("alice", "bob", "carol"))
    cid = alice.put(data)
    assert alice.has(cid) and not bob.has(cid) and not carol.has(cid)
    bob.get(cid)
    assert bob.has(cid) and not carol.has(cid)


def test_content_nobody_holds_is_not_found_within_the_timeout(ipfs_swarm: IpfsSwarm) -> None:
    missing = cid_of(b"no node of this swarm holds these bytes")
    with pytest.raises(BlockNotFoundError) as caught:
        _store(ipfs_swarm, "carol", timeout=2.0).get(missing)
    assert str(missing) in str(caught.value)


def test_a_timeout_mid_file_leaves_the_fetching_daemon_running(ipfs_swarm: IpfsSwarm) -> None:
    # 40 MB take bitswap several seconds here: a 0.5 s server timeout fires mid-file. Without
    # the preload's guard the rejected want exits the daemon ("Want for <cid> aborted").
    data = vector_input("random_5mb") * 8
    cid = _store(ipfs_swarm, "alice", timeout=60.0).put(data)
    with pytest.raises(BlockNotFoundError):
        _store(ipfs_swarm, "carol", timeout=0.5).get(cid)
    process = ipfs_swarm["carol"]._process
    assert process is not None and process.poll() is None
    assert _store(ipfs_swarm, "carol", timeout=60.0).get(cid) == data


def test_a_fetcher_serves_content_once_its_publisher_is_paused(ipfs_swarm: IpfsSwarm) -> None:
    data = b"published by bob, fetched by alice, then bob froze"
    cid = _store(ipfs_swarm, "bob").put(data)
    _store(ipfs_swarm, "alice").get(cid)
    ipfs_swarm["bob"].pause()
    try:
        with pytest.raises(StoreUnavailableError):
            IpfsStore(ipfs_swarm["bob"].api_url, timeout=0.5).has(cid)
        assert _store(ipfs_swarm, "carol").get(cid) == data
    finally:
        ipfs_swarm["bob"].resume()


def test_a_restarted_node_keeps_identity_ports_and_pins_and_is_dialled_again(
        ipfs_swarm: IpfsSwarm) -> None:
    data = b"pinned on carol before her restart"
    cid = _store(ipfs_swarm, "carol").put(data)
    before = (ipfs_swarm["carol"].peer_id, ipfs_swarm["carol"].api_url,
              ipfs_swarm["carol"].swarm_address)
    ipfs_swarm.restart("carol")
    after = (ipfs_swarm["carol"].peer_id, ipfs_swarm["carol"].api_url,
             ipfs_swarm["carol"].swarm_address)
    assert after == before
    assert _store(ipfs_swarm, "carol").has(cid)
    assert _store(ipfs_swarm, "alice").get(cid) == data


def test_an_isolated_node_cannot_see_the_swarm(ipfs_swarm: IpfsSwarm, ipfs_node: JsIpfsDaemon
                                               ) -> None:
    cid = _store(ipfs_swarm, "alice").put(b"swarm-only content")
    with pytest.raises(BlockNotFoundError):
        IpfsStore(ipfs_node.api_url, timeout=1.0).get(cid)
    with pytest.raises(IpfsDaemonError, match="no swarm listener"):
        _ = ipfs_node.swarm_address
