"""One round's aggregation, exactly as a committee member, the simulator and an auditor's
replay run it: bytes in, canonical bytes out.

Steps (every one deterministic):

1. Decode the parent model (weights plus any server-optimizer state, see
   :mod:`node.aggregation.server_opt`); a bad parent is an error.
2. Order the submitted updates by CID string (ties, i.e. identical bytes, by submission
   index); an update whose bytes equal an earlier one's is rejected as a duplicate, so
   copying another participant's update earns nothing.
3. Decode and validate each update lazily in that order; an invalid update (not
   safetensors, wrong layout, NaN, non-positive ``numSamples``, a delta that overflows
   float32 when applied) is excluded with its reason and never stops the round.
4. Aggregate with the task's rule, apply the server step, cast to float32 once.
5. Encode the new model canonically (metadata: rule, parameters, round; no timestamps)
   and score the accepted updates.

With no valid update the weights (and optimizer state) stay the parent's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from node.aggregation.fedavg import (
    AggregationError,
    ClientUpdate,
    EmptyAggregationError,
    NonFiniteResultError,
    RuleParamsError,
    capped_weight,
)
from node.aggregation.rules import RoundRule, make_rule
from node.aggregation.scores import DEFAULT_LOO_SCALE, compute_leave_one_out, sample_scores
from node.aggregation.server_opt import check_state_names
from node.codec.flat import flatten, layout_size, unflatten
from node.codec.model_file import split_state, state_layout, state_tensor_name
from node.codec.safetensors import (
    CodecError,
    Layout,
    LayoutMismatchError,
    decode_tensors,
    encode_tensors,
    expected_layout,
    max_payload_bytes,
)

__all__ = ["ContentKey", "Evaluate", "RoundResult", "aggregate_round", "decode_parent", "encode_model"]

_F32_MAX = float(np.finfo(np.float32).max)

ContentKey = Callable[[bytes], str]
"""An update's canonical content address (``ledger.unixfs.cid_str``: its CID). Updates are
aggregated in this key's order and equal keys are duplicates; the caller passes it, so
this module needs no IPFS code."""

Evaluate = Callable[[dict[str, torch.Tensor]], float]
"""Validation metric (higher is better) of model weights; used by leave-one-out scoring."""


@dataclass(frozen=True)
class RoundResult:
    """The outcome of one round.

    Attributes:
        model_bytes: the new global model file (canonical safetensors).
        accepted: indices (into the submitted ``updates``) of the updates that
            contributed, ascending.
        rejected: ``(index, reason)`` of every other update, ascending by index.
        scores: one integer contribution score per submitted update (0 if rejected).
        order: indices of the valid updates in the order they were aggregated.
    """

    model_bytes: bytes
    accepted: list[int]
    rejected: list[tuple[int, str]]
    scores: list[int]
    order: list[int] = field(default_factory=list)


def aggregate_round(
    parent_model_bytes: bytes,
    updates: Sequence[tuple[bytes, int]],
    *,
    content_key: ContentKey,
    layout: Layout,
    rule: str,
    rule_params: Mapping[str, object] | None = None,
    max_samples: int | None = None,
    round_index: int | None = None,
    scoring: str = "samples",
    evaluate: Evaluate | None = None,
    loo_scale: int = DEFAULT_LOO_SCALE,
) -> RoundResult:
    """Aggregate one round from bytes to bytes.

    Args:
        parent_model_bytes: the round's global model file.
        updates: ``(update bytes, self-reported numSamples)`` in submission order.
        content_key: each update's canonical content address (:data:`ContentKey`).
        layout: the architecture's layout (:func:`node.codec.safetensors.expected_layout`).
        rule: an aggregation rule name (:data:`node.aggregation.rules.RULE_NAMES`).
        rule_params: the rule's parameters from the manifest.
        max_samples: cap on each ``numSamples`` (weights and default scores).
        round_index: written into the model's metadata when given.
        scoring: ``"samples"`` or ``"leave_one_out"`` (needs ``evaluate``).
        evaluate: validation metric of a weights dict, for leave-one-out scoring.
        loo_scale: leave-one-out scores are metric differences times this.

    Returns:
        The new model bytes, accepted and rejected updates, and scores.

    Raises:
        CodecError: the parent model does not decode or does not fit ``layout``.
        RuleParamsError: unknown rule or scoring, bad parameters, a missing ``evaluate``.
        NonFiniteResultError: the server step produced NaN or infinity.
    """
    layout = {name: (tuple(shape), dtype) for name, (shape, dtype) in sorted(layout.items())}
    round_rule = make_rule(rule, rule_params)
    capped_weight(1, max_samples)  # a bad cap is the task's error, not an update's
    if scoring not in ("samples", "leave_one_out"):
        raise RuleParamsError(f"unknown scoring {scoring!r}")
    if scoring == "leave_one_out" and evaluate is None:
        raise RuleParamsError("leave_one_out scoring needs an evaluate callback")
    parent, state = decode_parent(parent_model_bytes, layout, round_rule.optimizer.slots)

    parent_absmax = float(np.abs(parent).max()) if parent.size else 0.0
    rejected: dict[int, str] = {}
    # One pass over ``updates`` for both: a lazily fetched sequence then reads each once here.
    cids: list[str] = []
    counts: list[int] = []
    for data, num_samples in updates:
        cids.append(content_key(data))
        counts.append(num_samples)
    first_with_cid: dict[str, int] = {}
    order: list[int] = []
    for index in sorted(range(len(updates)), key=lambda i: (cids[i], i)):
        if cids[index] in first_with_cid:
            rejected[index] = f"duplicate of update {first_with_cid[cids[index]]}"
        else:
            first_with_cid[cids[index]] = index
            order.append(index)

    valid: list[int] = []

    def stream(indices: Sequence[int], record: bool) -> Iterator[ClientUpdate]:
        for index in indices:
            try:
                update = _validate(updates[index], layout, parent, parent_absmax)
            except (CodecError, AggregationError) as err:
                if record:
                    rejected[index] = f"{type(err).__name__}: {err}"
                continue
            if record:
                valid.append(index)
            yield update

    def weights_from(indices: Sequence[int], record: bool) -> tuple[np.ndarray, dict, list[int]]:
        if not indices:
            return parent, state, []
        try:
            aggregate = round_rule.aggregator.aggregate(stream(indices, record),
                                                        max_samples=max_samples)
        except EmptyAggregationError:  # every candidate was invalid: keep the parent
            return parent, state, []
        new, new_state = round_rule.optimizer.step(parent, aggregate.delta, state)
        return new, new_state, list(aggregate.used)

    new, new_state, used = weights_from(order, record=True)
    accepted = sorted(valid[position] for position in used)
    accepted_set = set(accepted)
    for index in valid:
        if index not in accepted_set:
            rejected[index] = f"not selected by {rule}"
    model_bytes = encode_model(new, new_state, layout, round_rule, rule_params, round_index)

    scores = [0] * len(updates)
    if scoring == "samples":
        for index, score in zip(accepted, sample_scores([counts[i] for i in accepted],
                                                        max_samples), strict=True):
            scores[index] = score
    elif accepted:
        assert evaluate is not None

        def model_without(position: int | None) -> dict[str, torch.Tensor]:
            kept = valid if position is None else [i for i in valid if i != accepted[position]]
            weights, _, _ = weights_from(kept, record=False)
            flat32 = weights.astype(np.float32)
            return {k: torch.from_numpy(v.copy()) for k, v in unflatten(flat32, layout).items()}

        loo = compute_leave_one_out(len(accepted), model_without, evaluate, scale=loo_scale)
        for index, score in zip(accepted, loo, strict=True):
            scores[index] = score
    return RoundResult(model_bytes=model_bytes, accepted=accepted,
                       rejected=sorted(rejected.items()), scores=scores, order=valid)


def decode_parent(data: bytes, layout: Layout,
                   slots: tuple[str, ...]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Parent weights (float64 flat) and optimizer state (zeros when absent)."""
    full_layout = {**layout, **state_layout(layout, slots)}
    decoded = decode_tensors(data, max_bytes=max_payload_bytes(full_layout))
    weights, state_tensors = split_state(decoded.tensors)
    if expected_layout(weights) != layout:
        raise LayoutMismatchError("parent model weights do not match the architecture layout")
    parent = flatten(weights, layout, dtype=np.float64)
    has_state = check_state_names(state_tensors, layout, slots)
    state = {}
    for slot in slots:
        if has_state:
            slot_tensors = {name: state_tensors[state_tensor_name(slot, name)] for name in layout}
            state[slot] = flatten(slot_tensors, layout, dtype=np.float64)
        else:
            state[slot] = np.zeros(layout_size(layout), dtype=np.float64)
    return parent, state


def _validate(update: tuple[bytes, int], layout: Layout, parent: np.ndarray,
              parent_absmax: float) -> ClientUpdate:
    data, num_samples = update
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
        raise AggregationError(f"numSamples must be a positive int, got {num_samples!r}")
    decoded = decode_tensors(data, expected=layout, max_bytes=max_payload_bytes(layout))
    delta = flatten(decoded.tensors, layout)
    # Every rule's result lies in the convex hull of the updates (before the server step),
    # so if parent + delta stays finite in float32 for each update, so does the aggregate.
    # Fast path: a bound from the maxima (exact, order-free) settles almost every update.
    if delta.size and parent_absmax + max(float(delta.max()), -float(delta.min())) > _F32_MAX:
        with np.errstate(over="ignore"):
            if not np.isfinite((parent + delta).astype(np.float32)).all():
                raise AggregationError("applying this update overflows float32")
    return ClientUpdate(delta=delta, num_samples=num_samples)


def encode_model(new: np.ndarray, state: Mapping[str, np.ndarray], layout: Layout,
                  round_rule: RoundRule, rule_params: Mapping[str, object] | None,
                  round_index: int | None) -> bytes:
    with np.errstate(over="ignore"):
        weights32 = new.astype(np.float32)
        state32 = {slot: vector.astype(np.float32) for slot, vector in state.items()}
    if not np.isfinite(weights32).all() or not all(np.isfinite(v).all() for v in state32.values()):
        raise NonFiniteResultError(f"rule {round_rule.name!r} produced NaN or infinite weights")
    tensors: dict[str, np.ndarray] = dict(unflatten(weights32, layout))
    for slot, vector in state32.items():
        for name, array in unflatten(vector, layout).items():
            tensors[state_tensor_name(slot, name)] = array
    params = dict(rule_params or {})
    metadata = {
        "fedledger.rule": round_rule.name,
        "fedledger.rule_params": json.dumps({k: params[k] for k in sorted(params)},
                                            separators=(",", ":")),
    }
    if round_index is not None:
        metadata["fedledger.round"] = str(round_index)
    return encode_tensors(tensors, metadata)
