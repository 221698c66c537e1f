"""The whole product on one machine: anvil, the market, N node processes, and the
helpers only a local run has.

* ``run``: the multi-process demo (``fedledger demo``).
* ``timekeeper``: the dev-chain time keeper that fast-forwards finished phases.
* ``ipfs_daemon``: a local js-ipfs node (HTTP RPC API) for the demo, tests and benches.
* ``ipfs_swarm``: N such nodes, one repo each, peered over libp2p on 127.0.0.1.
"""

__all__ = ["ipfs_daemon", "ipfs_swarm", "run", "timekeeper"]
