"""Evaluate lineage models on a data set named at audit time (``--eval-data CSV``).

The auditor's own table is encoded with the task's fixed schema (the manifest's, or the
built-in data set's), so every model of the lineage is scored on the same rows.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ledger.manifest import TaskManifest
from node.data.datasets import TensorData, builtin_dataset, read_csv_table
from node.data.preprocess import DataError, DataSchema, encode_rows
from node.learning.task import model_of, model_weights
from node.learning.train import EvalMetrics, evaluate, load_state

__all__ = ["evaluate_model", "load_eval_data"]


def _schema(manifest: TaskManifest) -> DataSchema:
    if manifest.dataset == "csv":
        if manifest.data_schema is None:  # the manifest enforces a schema for csv tasks
            raise DataError("csv task manifest without a data_schema")
        return DataSchema.from_mapping(manifest.data_schema)
    return builtin_dataset(manifest.dataset, manifest.data_schema)[1]


def load_eval_data(manifest: TaskManifest, path: str | Path) -> TensorData:
    """Every row of the CSV at ``path``, encoded with the task's schema.

    Raises:
        DataError: unreadable CSV, no rows, or rows that do not fit the schema.
    """
    table = read_csv_table(path)
    if len(table) == 0:
        raise DataError(f"{path}: no rows to evaluate on")
    x, y = encode_rows(table.header, table.rows, _schema(manifest))
    return TensorData(torch.from_numpy(x), torch.from_numpy(y))


def evaluate_model(manifest: TaskManifest, model_bytes: bytes, data: TensorData) -> EvalMetrics:
    """Loss, accuracy and AUC of a global-model file on ``data``.

    Raises:
        CodecError: the bytes are not a model of the task's architecture.
    """
    model = model_of(manifest)
    load_state(model, model_weights(manifest, model_bytes))
    return evaluate(model, data)
