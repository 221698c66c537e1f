"""The fedledger participant, in subpackages by concern (imports point down only)::

    cli                               the ``fedledger`` command line
    explorer                          the live, read-only web app
    demo  runtime  requester  audit   wiring: processes, the node loop, posting, auditing
    sim                               the in-process simulator (only the CLI imports it)
    aggregation                       one round's aggregation, rules, scores
    learning                          models, local training, the task entry points
    privacy                           DP, fixed point, masks, secure aggregation
    codec  data                       bytes that travel; a participant's own data
    errors  seeds  numeric            the root: exceptions, seeds, ordered sums
    ---- ledger (chain, content store, manifests, lineage) ---- web3 / IPFS ----

``learning``, ``aggregation``, ``privacy``, ``codec`` and ``data`` import no chain or IPFS
code (``tests/test_layering.py`` holds every rule here to the code).
"""

__all__ = ["aggregation", "audit", "cli", "codec", "data", "demo", "errors", "explorer",
           "learning",
           "numeric", "privacy", "requester", "runtime", "seeds", "sim"]
