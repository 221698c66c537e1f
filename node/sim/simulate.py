"""The in-process federated simulator: the reference the chain run is held to.

Every step is a function of bytes and the manifest, exactly what a node sees:

* ``node.learning.task.genesis_model_bytes`` and ``client_update_bytes``: the round-0
  model and what each participant uploads, the very calls a node process makes;
* aggregation: ``node.aggregation.round.aggregate_round`` (decode, validate, order by CID,
  aggregate, encode), the same call a committee member makes.

``run_simulation`` strings these together for all rounds and participants (or, with a cohort,
each round's drawn participants: ``sampled_cohorts``, the chain's draw), evaluates the global
model after each round, and records a JSON-ready log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.manifest import TaskManifest
from ledger.unixfs import cid_str
from node.codec.safetensors import encode_tensors, expected_layout
from node.data.datasets import ClientData
from node.errors import NodeError
from node.learning.task import evaluate_clients, genesis_model_bytes, local_update, model_of
from node.sim.attacks import Attack, flip_labels, scale_delta

__all__ = [
    "AggregateFn",
    "CohortFn",
    "SimulationResult",
    "model_cid",
    "run_simulation",
    "sampled_cohorts",
    "simulated_update_bytes",
]

AggregateFn = Callable[..., Any]
"""``node.aggregation.round.aggregate_round``'s signature: (parent_bytes, payloads, *, layout,
rule, rule_params, max_samples, round_index, scoring) -> ``RoundResult``."""


CohortFn = Callable[[int], Sequence[int]]
"""round -> the indices (into the clients, in join order) of that round's trainers."""


def sampled_cohorts(n_clients: int, size: int, seed_of: Callable[[int], bytes]) -> CohortFn:
    """Each round's cohort of ``size`` of ``n_clients``, drawn from ``seed_of(round)`` exactly as
    the contract draws it (``ledger.cohort``): pass the chain's ``CohortDrawn`` seeds to replay a
    chain run, or any seeds to study sampling."""
    from ledger.cohort import cohort_indices

    return lambda round_index: sorted(cohort_indices(seed_of(round_index), n_clients, size))


def model_cid(data: bytes) -> str:
    """The CID a content store gives these bytes (CIDv1, raw leaves, 256 KiB chunks)."""
    from ledger.unixfs import cid_of

    return str(cid_of(data))


def simulated_update_bytes(manifest: TaskManifest, parent_model_bytes: bytes,
                           client_data: ClientData, round_index: int, *,
                           attack: Attack | None = None,
                           noise_key: int | None = None) -> tuple[bytes, int]:
    """``node.learning.task.client_update_bytes``, or what an attacker uploads instead.

    Without ``attack`` the bytes are exactly an honest node's.
    """
    data = client_data
    if attack is not None and attack.kind == "label_flip":
        data = flip_labels(client_data, int(manifest.model_params["n_classes"]))
    result = local_update(manifest, parent_model_bytes, data, client_data.client_id,
                          round_index, noise_key=noise_key)
    delta = result.delta
    if attack is not None and attack.kind == "sign_flip":
        delta = scale_delta(delta, -attack.factor)
    return encode_tensors(delta), result.num_samples


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
                   noise_key: Callable[[str, int], int] | None = None,
                   cohort: CohortFn | None = None) -> SimulationResult:
    """Runs ``manifest.rounds`` rounds with every client (or each round's cohort) taking part.

    Args:
        manifest: the task.
        clients: the participants' data (ids must be unique).
        attacks: client id -> attack, for robustness experiments.
        aggregate: override of ``node.aggregation.round.aggregate_round`` (tests only).
        on_round: called with each round's log entry (progress display).
        evaluate_every: evaluate the global model every this many rounds (and last).
        noise_key: ``(client id, round) -> secret noise key``, for record-level DP.
        cohort: which clients train in each round (``sampled_cohorts``; None: all of them).

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
        trainers = list(clients) if cohort is None else [clients[i] for i in cohort(round_index)]
        payloads = [simulated_update_bytes(manifest, model_bytes, c, round_index,
                                           attack=attacks.get(c.client_id),
                                           noise_key=None if noise_key is None
                                           else noise_key(c.client_id, round_index))
                    for c in trainers]
        outcome = aggregate(model_bytes, payloads, content_key=cid_str, layout=layout, rule=manifest.aggregation,
                            rule_params=manifest.aggregation_params,
                            max_samples=manifest.max_samples, round_index=round_index,
                            scoring=manifest.reward_rule)
        model_bytes = outcome.model_bytes
        entry: dict[str, Any] = {
            "round": round_index,
            "model_cid": model_cid(model_bytes),
            "accepted": len(outcome.accepted),
            "rejected": len(outcome.rejected),
            "trainers": [c.client_id for c in trainers],
            "scores": {trainers[i].client_id: score for i, score in enumerate(outcome.scores)},
            "seconds": round(time.perf_counter() - started, 3),
        }
        if round_index % evaluate_every == 0 or round_index == manifest.rounds:
            entry["eval"] = evaluate_clients(manifest, model_bytes, clients)
        result.rounds.append(entry)
        if on_round is not None:
            on_round(entry)
    return SimulationResult(final_model_bytes=model_bytes, final_cid=model_cid(model_bytes),
                            genesis_cid=result.genesis_cid, rounds=result.rounds)

