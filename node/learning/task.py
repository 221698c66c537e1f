"""The training entry points of a task: what a manifest and bytes turn into.

Every participant (``node.runtime``), the simulator (``node.sim``), the requester
(genesis model) and the auditor call these, so all of them compute the same bytes:

* ``genesis_model_bytes(manifest)``: the round-0 global model (seeded init);
* ``model_weights(manifest, model_bytes)``: a global-model file's weights, validated;
* ``local_update(...)`` / ``client_update_bytes(...)``: what participant ``client_id``
  uploads in ``round`` (a float32 delta) and its ``numSamples``; the training seed is
  ``derive_seed(seed, "train", round, client_id)``;
* ``evaluate_clients(manifest, model_bytes, clients)``: a model on held-out rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ledger.manifest import TaskManifest
from node.codec.model_file import split_state
from node.codec.safetensors import (
    LayoutMismatchError,
    decode_tensors,
    encode_tensors,
    expected_layout,
    max_payload_bytes,
)
from node.data.datasets import ClientData, TensorData
from node.learning.dp_sgd import DpSgd
from node.learning.models import build_model
from node.learning.train import LocalResult, TrainHyper, evaluate, load_state, train_local
from node.privacy.dp import DpError
from node.seeds import derive_seed

__all__ = [
    "client_update_bytes",
    "evaluate_clients",
    "genesis_model_bytes",
    "hyper_of",
    "local_update",
    "model_of",
    "model_weights",
]


def hyper_of(manifest: TaskManifest) -> TrainHyper:
    """The local-training settings a manifest asks for."""
    return TrainHyper(epochs=manifest.local_epochs, batch_size=manifest.batch_size,
                      optimizer=manifest.optimizer, lr=manifest.lr,
                      fedprox_mu=manifest.fedprox_mu)


def model_of(manifest: TaskManifest) -> nn.Module:
    """A fresh module of the manifest's architecture, initialised with the task seed."""
    return build_model(manifest.architecture, manifest.model_params, seed=manifest.seed)


def genesis_model_bytes(manifest: TaskManifest) -> bytes:
    """The canonical bytes of the round-0 global model (its CID goes on chain)."""
    return encode_tensors(model_of(manifest).state_dict())


def model_weights(manifest: TaskManifest, model_bytes: bytes) -> dict[str, torch.Tensor]:
    """The model weights inside a global-model file, validated against the architecture.

    A global model file may also carry server-optimizer state (e.g. FedAdam moments)
    under ``node.codec.model_file.STATE_PREFIX``; those are not weights and are left out here.

    Raises:
        CodecError: bytes that are not a valid model file or lack a weight tensor
            of the architecture's shape.
    """
    layout = expected_layout(model_of(manifest))
    # weights plus at most two server-optimizer slots (FedAdam's m and v)
    limit = 3 * max_payload_bytes(layout)
    weights, _state = split_state(decode_tensors(model_bytes, max_bytes=limit).tensors)
    if expected_layout(weights) != layout:
        raise LayoutMismatchError(
            f"model file weights {sorted(expected_layout(weights).items())} do not match "
            f"architecture {manifest.architecture!r}")
    return weights


def _dp_sgd_of(manifest: TaskManifest, noise_key: int | None, n_rows: int) -> DpSgd | None:
    """The DP-SGD settings of a record-level DP manifest (None otherwise)."""
    dp = manifest.dp
    if dp is None or dp.level != "record":
        return None
    if noise_key is None:
        raise DpError("record-level DP needs the participant's secret noise key")
    if dp.noise_shares > 1 and n_rows > manifest.max_samples:
        # Its weight would be capped below its row count, shrinking its noise share.
        raise DpError(f"distributed DP needs at most max_samples ({manifest.max_samples}) "
                      f"training rows per participant; this one has {n_rows}")
    return DpSgd(clip_norm=dp.clip_norm, noise_multiplier=dp.noise_multiplier,
                 noise_key=noise_key, noise_shares=dp.noise_shares)


def local_update(manifest: TaskManifest, parent_model_bytes: bytes, client_data: ClientData,
                 client_id: str, round_index: int, *,
                 noise_key: int | None = None) -> LocalResult:
    """Trains one participant for one round from the parent model file.

    ``noise_key`` is the participant's secret DP noise key for the round
    (``node.privacy.dp.noise_seed``); it is required, and only used, when the manifest
    asks for record-level DP (DP-SGD, ``node.learning.dp_sgd``).

    Raises:
        CodecError: the parent model file does not fit the architecture.
        TrainError: training failed (e.g. a non-finite loss).
        DpError: record-level DP without ``noise_key``; distributed DP with more training
            rows than ``max_samples``.
    """
    model = model_of(manifest)
    parent = model_weights(manifest, parent_model_bytes)
    return train_local(model, parent, client_data.train, hyper_of(manifest),
                       derive_seed(manifest.seed, "train", round_index, client_id),
                       dp_sgd=_dp_sgd_of(manifest, noise_key, len(client_data.train)))


def client_update_bytes(manifest: TaskManifest, parent_model_bytes: bytes,
                        client_data: ClientData, client_id: str, round_index: int, *,
                        noise_key: int | None = None) -> tuple[bytes, int]:
    """``(update bytes, numSamples)``: :func:`local_update`'s delta, encoded.

    Raises:
        CodecError, TrainError, DpError: as :func:`local_update`.
    """
    result = local_update(manifest, parent_model_bytes, client_data, client_id, round_index,
                          noise_key=noise_key)
    return encode_tensors(result.delta), result.num_samples


def evaluate_clients(manifest: TaskManifest, model_bytes: bytes,
                     clients: Sequence[ClientData]) -> dict[str, Any]:
    """The global model on every participant's held-out data.

    Returns pooled metrics (all test rows together) and the unweighted mean of the
    per-participant accuracies.
    """
    model = model_of(manifest)
    load_state(model, model_weights(manifest, model_bytes))
    tests = [c.test for c in clients if len(c.test) > 0]
    pooled = evaluate(model, TensorData(torch.cat([t.x for t in tests]),
                                        torch.cat([t.y for t in tests])))
    per_client = [evaluate(model, t).accuracy for t in tests]
    return {**pooled.as_dict(), "mean_client_accuracy": float(np.mean(per_client))}
