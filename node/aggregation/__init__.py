"""One round's aggregation: rules, robust rules, server optimizers, scores.

* ``fedavg``: client updates, the rule interface, streaming FedAvg.
* ``robust``: coordinate median, trimmed mean, (multi-)Krum, norm-clipped FedAvg.
* ``server_opt``: server optimizers (plain step, momentum, FedAdam).
* ``rules``: rule names to (aggregator, optimizer) pairs.
* ``scores``: integer contribution scores and the reward split.
* ``round``: one open round from bytes to bytes (validate, order, aggregate, encode).
* ``secure_round``: one secure round from masked files (unmask the sum, same encoding).

Layer: above ``learning``/``privacy``/``codec``; imports no chain or IPFS code (the caller
passes each update's content key).
"""

__all__ = ["fedavg", "robust", "round", "rules", "scores", "secure_round", "server_opt"]
