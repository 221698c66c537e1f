"""The root of every exception ``node`` raises.

    NodeError
    ├── ModelError        (node.learning.models: unknown architecture, bad parameters)
    ├── DataError         (node.data.datasets / node.data.preprocess / node.data.partition: bad schema, bad rows)
    ├── TrainError        (node.learning.train: bad hyper-parameters, non-finite loss)
    └── ...               (each module defines its subclasses next to the code that raises them)
"""

from __future__ import annotations

__all__ = ["NodeError"]


class NodeError(Exception):
    """Base class of all fedledger node-side errors."""
