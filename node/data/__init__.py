"""A participant's own data: CSV tables, schemas, encoding, local train/test splits.

* ``preprocess``: schema-driven encoding of raw rows into feature matrices (numpy only).
* ``schemas``: the built-in data sets' published schemas; the schema a manifest implies.
* ``datasets``: tables, the shipped shoppers CSV and digits, tensors per participant.
* ``partition``: splitting pooled rows among participants (natural, iid, Dirichlet, shards).
* ``split``: one pooled table to every participant's data (simulator, demo, benchmarks).

Layer: below ``learning``; imports no chain or IPFS code.
"""

__all__ = ["datasets", "partition", "preprocess", "schemas", "split"]
