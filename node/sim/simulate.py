"""The in-process federated simulator: the reference the chain run is held to.

Every step is a function of bytes and the manifest, exactly what a node sees:

* ``genesis_model_bytes(manifest)``: the round-0 global model (seeded init).
* ``client_update_bytes(manifest, parent_bytes, client_data, client_id, round)``: what
  participant ``client_id`` uploads in ``round`` (encoded float32 delta) and its
  ``numSamples``; the training seed is ``derive_seed(seed, "train", round, client_id)``,
  so the node process computes the same bytes.
* aggregation: ``node.aggregation.round.aggregate_round`` (decode, validate, order by CID,
  aggregate, encode), the same call a committee member makes.

``run_simulation`` strings these together for all rounds and participants, evaluates the
global model after each round, and records a JSON-ready log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ledger.manifest import TaskManifest
from node.sim.attacks import Attack, flip_labels, scale_delta
from node.codec.safetensors import decode_tensors, encode_tensors, expected_layout, max_payload_bytes
from node.data.datasets import ClientData, TensorData
from node.errors import NodeError
from node.learning.models import build_model
from node.seeds import derive_seed
from node.learning.train import TrainHyper, evaluate, load_state, train_local

__all__ = [
    "AggregateFn",
    "SimulationResult",
    "client_update_bytes",
    "evaluate_clients",
    "genesis_model_bytes",
    "hyper_of",
    "model_cid",
    "model_of",
    "model_weights",
    "run_simulation",
]

AggregateFn = Callable[..., Any]
"""``node.aggregation.round.aggregate_round``'s signature: (parent_bytes, payloads, *, layout,
rule, rule_params, max_samples, round_index, scoring) -> ``RoundResult``."""


def model_cid(data: bytes) -> str:
    """The CID a content store gives these bytes (CIDv1, raw leaves, 256 KiB chunks)."""
    from ledger.unixfs import cid_of

    return str(cid_of(data))


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
    under ``node.aggregation.server_opt.STATE_PREFIX``; those are not weights and are left out here.

    Raises:
        CodecError: bytes that are not a valid model file or lack a weight tensor
            of the architecture's shape.
    """
    from node.codec.safetensors import LayoutMismatchError
    from node.aggregation.server_opt import split_state

    layout = expected_layout(model_of(manifest))
    # weights plus at most two server-optimizer slots (FedAdam's m and v)
    limit = 3 * max_payload_bytes(layout)
    weights, _state = split_state(decode_tensors(model_bytes, max_bytes=limit).tensors)
    if expected_layout(weights) != layout:
        raise LayoutMismatchError(
            f"model file weights {sorted(expected_layout(weights).items())} do not match "
            f"architecture {manifest.architecture!r}")
    return weights


def _dp_sgd_of(manifest: TaskManifest, noise_key: int | None, n_rows: int) -> Any:
    """The DP-SGD settings of a record-level DP manifest (None otherwise)."""
    dp = manifest.dp
    if dp is None or dp.level != "record":
        return None
    from node.privacy.dp import DpError
    from node.learning.dp_sgd import DpSgd

    if noise_key is None:
        raise DpError("record-level DP needs the participant's secret noise key")
    if dp.noise_shares > 1 and n_rows > manifest.max_samples:
        # Its weight would be capped below its row count, shrinking its noise share.
        raise DpError(f"distributed DP needs at most max_samples ({manifest.max_samples}) "
                      f"training rows per participant; this one has {n_rows}")
    return DpSgd(clip_norm=dp.clip_norm, noise_multiplier=dp.noise_multiplier,
                 noise_key=noise_key, noise_shares=dp.noise_shares)


def client_update_bytes(manifest: TaskManifest, parent_model_bytes: bytes,
                        client_data: ClientData, client_id: str, round_index: int, *,
                        attack: Attack | None = None,
                        noise_key: int | None = None) -> tuple[bytes, int]:
    """Trains one participant for one round and returns ``(update bytes, numSamples)``.

    ``attack`` is for robustness simulations only. ``noise_key`` is the participant's
    secret DP noise key for the round (``node.privacy.dp.noise_seed``); it is required, and only
    used, when the manifest asks for record-level DP (DP-SGD, ``node.learning.dp_sgd``).

    Raises:
        CodecError: the parent model file does not fit the architecture.
        TrainError: training failed (e.g. a non-finite loss).
        DpError: record-level DP without ``noise_key``; distributed DP with more training
            rows than ``max_samples``.
    """
    data = client_data
    if attack is not None and attack.kind == "label_flip":
        data = flip_labels(client_data, int(manifest.model_params["n_classes"]))
    model = model_of(manifest)
    parent = model_weights(manifest, parent_model_bytes)
    result = train_local(model, parent, data.train, hyper_of(manifest),
                         derive_seed(manifest.seed, "train", round_index, client_id),
                         dp_sgd=_dp_sgd_of(manifest, noise_key, len(data.train)))
    delta = result.delta
    if attack is not None and attack.kind == "sign_flip":
        delta = scale_delta(delta, -attack.factor)
    return encode_tensors(delta), result.num_samples


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


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of a simulated task: final model, its CID and the per-round log."""

    final_model_bytes: bytes
    final_cid: str
    genesis_cid: str
    rounds: list[dict[str, Any]] = field(default_factory=list)

    def log(self) -> dict[str, Any]:
        return {"genesis_cid": self.genesis_cid, "final_cid": self.final_cid,
                "rounds": self.rounds}


def run_simulation(manifest: TaskManifest, clients: Sequence[ClientData], *,
                   attacks: Mapping[str, Attack] | None = None,
                   aggregate: AggregateFn | None = None,
                   on_round: Callable[[dict[str, Any]], None] | None = None,
                   evaluate_every: int = 1,
                   noise_key: Callable[[str, int], int] | None = None) -> SimulationResult:
    """Runs ``manifest.rounds`` rounds with every client taking part in each.

    Args:
        manifest: the task.
        clients: the participants' data (ids must be unique).
        attacks: client id -> attack, for robustness experiments.
        aggregate: override of ``node.aggregation.round.aggregate_round`` (tests only).
        on_round: called with each round's log entry (progress display).
        evaluate_every: evaluate the global model every this many rounds (and last).
        noise_key: ``(client id, round) -> secret noise key``, for record-level DP.

    Raises:
        NodeError: duplicate client ids or no clients.
        RuleParamsError: a rule the aggregator does not know, or ``leave_one_out``
            rewards (they need a validation set, which the simulator does not pick).
    """
    ids = [c.client_id for c in clients]
    if not ids or len(set(ids)) != len(ids):
        raise NodeError(f"need unique client ids, got {ids}")
    if aggregate is None:
        from node.aggregation.round import aggregate_round as aggregate
    attacks = dict(attacks or {})
    layout = expected_layout(model_of(manifest))
    model_bytes = genesis_model_bytes(manifest)
    result = SimulationResult(final_model_bytes=model_bytes, final_cid=model_cid(model_bytes),
                              genesis_cid=model_cid(model_bytes))
    for round_index in range(1, manifest.rounds + 1):
        started = time.perf_counter()
        payloads = [client_update_bytes(manifest, model_bytes, c, c.client_id, round_index,
                                        attack=attacks.get(c.client_id),
                                        noise_key=None if noise_key is None
                                        else noise_key(c.client_id, round_index))
                    for c in clients]
        outcome = aggregate(model_bytes, payloads, layout=layout, rule=manifest.aggregation,
                            rule_params=manifest.aggregation_params,
                            max_samples=manifest.max_samples, round_index=round_index,
                            scoring=manifest.reward_rule)
        model_bytes = outcome.model_bytes
        entry: dict[str, Any] = {
            "round": round_index,
            "model_cid": model_cid(model_bytes),
            "accepted": len(outcome.accepted),
            "rejected": len(outcome.rejected),
            "scores": {clients[i].client_id: score for i, score in enumerate(outcome.scores)},
            "seconds": round(time.perf_counter() - started, 3),
        }
        if round_index % evaluate_every == 0 or round_index == manifest.rounds:
            entry["eval"] = evaluate_clients(manifest, model_bytes, clients)
        result.rounds.append(entry)
        if on_round is not None:
            on_round(entry)
    return SimulationResult(final_model_bytes=model_bytes, final_cid=model_cid(model_bytes),
                            genesis_cid=result.genesis_cid, rounds=result.rounds)

