"""The data schema a task's manifest implies (built-in data sets have a default)."""

from __future__ import annotations

from ledger.manifest import TaskManifest
from node.data.datasets import DIGITS_SCHEMA, SHOPPERS_SCHEMA
from node.data.preprocess import DataSchema

__all__ = ["schema_of"]

_DEFAULTS = {"shoppers": SHOPPERS_SCHEMA, "digits": DIGITS_SCHEMA}


def schema_of(manifest: TaskManifest) -> DataSchema:
    """The manifest's own schema, else the built-in data set's default."""
    if manifest.data_schema is not None:
        return DataSchema.from_mapping(manifest.data_schema)
    return _DEFAULTS[manifest.dataset]
