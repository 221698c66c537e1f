"""The whole product on one machine: anvil, the market, N node processes, and the
helpers only a local run has.

* ``run``: the multi-process demo (``fedledger demo``).
* ``timekeeper``: the dev-chain time keeper that fast-forwards finished phases.
* ``ipfs_daemon``: a local js-ipfs node (HTTP RPC API) for the demo, tests and benches.
"""

__all__ = ["ipfs_daemon", "run", "timekeeper"]
