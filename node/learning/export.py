"""A global model in the formats other tools load, and its predictions on raw rows.

* ``safetensors``: the weights only (a global-model file may also carry server-optimizer
  state, which is left out), with the architecture and its parameters in the metadata;
* ``torchscript``: ``torch.jit.trace`` of the model, loadable with ``torch.jit.load`` and no
  fedledger code;
* ``onnx``: torch's exporter (``torch.onnx.export(dynamo=True)``, which needs the
  ``onnxscript`` package: ``pip install 'fedledger[export]'``), input ``features`` of shape
  ``[rows, n_features]``, output ``logits``.

Every format takes the *encoded* features (the task schema's encoding, ``node.data.preprocess``);
``predict_rows`` applies the schema to raw CSV rows first. Outputs are logits; propensities are
their sigmoid (binary tasks) or softmax.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch

from ledger.manifest import TaskManifest
from node.codec.safetensors import encode_tensors
from node.data.preprocess import DataSchema, encode_features
from node.errors import NodeError
from node.learning.task import model_of, model_weights
from node.learning.train import load_state, predict_logits

__all__ = ["FORMATS", "ExportError", "export_model", "loaded_model", "predict_rows",
           "propensities"]

FORMATS = ("safetensors", "onnx", "torchscript")


class ExportError(NodeError):
    """A format this machine cannot write (a missing optional package), or a bad format."""


def loaded_model(manifest: TaskManifest, model_bytes: bytes) -> torch.nn.Module:
    """The task's architecture with the weights of a global-model file, in eval mode.

    Raises:
        CodecError: the bytes are not a model of the task's architecture.
    """
    model = model_of(manifest)
    load_state(model, model_weights(manifest, model_bytes))
    return model.eval()


def _n_features(manifest: TaskManifest, model: torch.nn.Module) -> int:
    first = next(p for p in model.parameters() if p.dim() >= 2)
    return int(first.shape[1])


def export_model(manifest: TaskManifest, model_bytes: bytes, fmt: str, path: str | Path, *,
                 metadata: dict[str, str] | None = None) -> Path:
    """Writes the model of ``model_bytes`` to ``path`` in ``fmt`` (one of ``FORMATS``).

    Raises:
        ExportError: an unknown format, or ONNX without ``onnxscript`` installed.
        CodecError: the bytes are not a model of the task's architecture.
    """
    path = Path(path)
    model = loaded_model(manifest, model_bytes)
    example = torch.zeros(2, _n_features(manifest, model))
    if fmt == "safetensors":
        meta = {"architecture": manifest.architecture,
                "model_params": json.dumps(dict(manifest.model_params), sort_keys=True),
                **(metadata or {})}
        path.write_bytes(encode_tensors(model.state_dict(), metadata=meta))
    elif fmt == "torchscript":
        with torch.no_grad():
            traced = torch.jit.trace(model, example)
        torch.jit.save(traced, str(path))
    elif fmt == "onnx":
        try:
            import onnxscript  # noqa: F401  (the exporter's own dependency)
        except ImportError as err:
            raise ExportError("ONNX export needs onnxscript: pip install 'fedledger[export]'") \
                from err
        program = torch.onnx.export(model, (example,), dynamo=True, input_names=["features"],
                                    output_names=["logits"], verbose=False,
                                    dynamic_shapes=({0: torch.export.Dim("rows")},))
        program.save(str(path))
    else:
        raise ExportError(f"unknown format {fmt!r}; one of {list(FORMATS)}")
    return path


def propensities(logits: torch.Tensor) -> torch.Tensor:
    """Class probabilities: sigmoid of a single logit (binary: the positive class), else
    softmax."""
    if logits.shape[1] == 1:
        return torch.sigmoid(logits[:, 0].to(torch.float64))
    return torch.softmax(logits.to(torch.float64), dim=1)


def predict_rows(manifest: TaskManifest, schema: DataSchema, model_bytes: bytes,
                 header: Sequence[str], rows: Sequence[Sequence[str]]) -> torch.Tensor:
    """Propensities of raw rows (the label column may be absent).

    Raises:
        DataError: rows that do not fit the schema.
        CodecError: the bytes are not a model of the task's architecture.
    """
    x = torch.from_numpy(encode_features(header, rows, schema))
    return propensities(predict_logits(loaded_model(manifest, model_bytes), x))
