"""IPFS fixtures (real js-ipfs daemons on free loopback ports).

``ipfs_node`` starts one isolated js-ipfs daemon per test session (~4-8 s) in a temporary
repository and stops it at the end; ``ipfs_store`` is an ``IpfsStore`` on it. ``ipfs_swarm``
starts three daemons with their own repos, peered over libp2p on 127.0.0.1, for one test
module (~12-16 s). All fail (never skip) when js-ipfs is not installed: run ``make setup-ipfs``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.ipfs_store import IpfsStore
from node.demo.ipfs_daemon import JsIpfsDaemon
from node.demo.ipfs_swarm import IpfsSwarm

SWARM_NAMES = ["alice", "bob", "carol"]


@pytest.fixture(scope="session")
def ipfs_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsIpfsDaemon]:
    """A started js-ipfs daemon (offline, loopback only) for the whole session."""
    with JsIpfsDaemon(tmp_path_factory.mktemp("ipfs") / "repo") as daemon:
        yield daemon


@pytest.fixture
def ipfs_store(ipfs_node: JsIpfsDaemon) -> Iterator[IpfsStore]:
    """An ``IpfsStore`` on the session's js-ipfs node, with a short request timeout."""
    with IpfsStore(ipfs_node.api_url, timeout=5.0) as store:
        yield store


@pytest.fixture(scope="module")
def ipfs_swarm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsSwarm]:
    """Three connected js-ipfs nodes (``SWARM_NAMES``), one repo each, for a test module."""
    with IpfsSwarm(tmp_path_factory.mktemp("swarm"), SWARM_NAMES) as swarm:
        yield swarm
