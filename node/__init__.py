"""The fedledger participant: models, data, training, the update codec, aggregation,
privacy, scoring, the node loop and the ``fedledger`` CLI."""
