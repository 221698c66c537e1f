"""The root of every exception ``node`` raises.

    NodeError
    ├── ModelError        (node.models: unknown architecture, bad parameters)
    ├── DataError         (node.datasets / node.preprocess / node.partition: bad schema, bad rows)
    ├── TrainError        (node.train: bad hyper-parameters, non-finite loss)
    └── ...               (each module defines its subclasses next to the code that raises them)
"""

from __future__ import annotations


class NodeError(Exception):
    """Base class of all fedledger node-side errors."""
