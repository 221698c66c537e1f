"""N js-ipfs nodes on loopback, each with its own repo, dialled into one swarm.

What a real deployment has, on one machine: every participant talks to its own IPFS node,
no repo or directory is shared, and a peer's content arrives only by bitswap. Nodes are
started in parallel (each takes ~4 s alone, ~15 s when four start at once on two cores) and
every pair is connected explicitly; nothing finds peers by itself (no bootstrap, no mDNS).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.closing import Closing
from node.demo.ipfs_daemon import IpfsDaemonError, JsIpfsDaemon

if TYPE_CHECKING:
    from typing import Self

__all__ = ["IpfsSwarm"]


class IpfsSwarm(Closing):
    """``names`` IPFS nodes under ``root`` (one repo each), fully connected on enter.

    Args:
        root: the parent directory of the repos (``root/<name>``).
        names: one node per name, in this order.
        start_timeout: seconds each daemon may take to start.

    Raises:
        IpfsDaemonError: on ``start``, a daemon did not start or two nodes did not connect
            (every node started so far is stopped again).
    """

    def __init__(self, root: Path, names: list[str], *, start_timeout: float = 120.0) -> None:
        if len(set(names)) != len(names):
            raise IpfsDaemonError(f"IPFS node names must be distinct: {names}")
        self.root = Path(root)
        self.names = list(names)
        self.nodes = {name: JsIpfsDaemon(self.root / name, swarm=True,
                                         start_timeout=start_timeout) for name in names}

    def __getitem__(self, name: str) -> JsIpfsDaemon:
        return self.nodes[name]

    @property
    def api_urls(self) -> dict[str, str]:
        """Each running node's API URL by name."""
        return {name: node.api_url for name, node in self.nodes.items()}

    def start(self) -> None:
        """Start every node (in parallel), then connect every pair."""
        try:
            with ThreadPoolExecutor(len(self.nodes) or 1, thread_name_prefix="ipfs") as pool:
                for future in [pool.submit(node.start) for node in self.nodes.values()]:
                    future.result()
            for name in self.names:
                self.connect(name)
        except BaseException:
            self.close()
            raise

    def connect(self, name: str) -> None:
        """Dial every other running node from ``name`` (after a start or a restart)."""
        node = self.nodes[name]
        for other in self.names:
            if other != name and self.nodes[other].pid is not None:
                node.connect(self.nodes[other].swarm_address)

    def restart(self, name: str) -> None:
        """Stop ``name`` and start it again over the same repo (same ports, same peer id),
        then reconnect it to the others."""
        node = self.nodes[name]
        node.stop()
        node.start()
        self.connect(name)

    def close(self) -> None:
        """Stop every node (repos stay on disk)."""
        for node in self.nodes.values():
            node.stop()

    def __enter__(self) -> Self:
        self.start()
        return self
