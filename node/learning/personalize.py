"""Personalization: the model a participant keeps for itself once the task ends.

The manifest's ``personalization`` section (``ledger.manifest.Personalization``) says how:
none (the global model as is), fine-tune (train the final global model further on one's own
training rows, optionally pulled towards the global weights by a proximal term, as Ditto
does) or mix (interpolate the fine-tuned and the global weights). The personal model never
leaves the participant (it is not an update); what is reported is the global model's and the
personal model's metrics on the same held-out local rows, so a participant sees what it
bought.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from ledger.manifest import Personalization, TaskManifest
from node.data.datasets import ClientData
from node.learning.task import hyper_of, model_of
from node.learning.train import EvalMetrics, evaluate, load_state, train_local

__all__ = ["PersonalizedResult", "personalize"]


@dataclass(frozen=True)
class PersonalizedResult:
    """Global vs personal metrics on the participant's held-out data.

    Attributes:
        state: the personal weights (float32), to keep locally.
        global_metrics: the global model on the held-out rows.
        personal_metrics: the personal model on the same rows.
    """

    state: dict[str, torch.Tensor]
    global_metrics: EvalMetrics
    personal_metrics: EvalMetrics


def personalize(manifest: TaskManifest, global_state: Mapping[str, torch.Tensor],
                data: ClientData, settings: Personalization | None = None, *,
                seed: int) -> PersonalizedResult:
    """The personal model of ``settings`` (default: the manifest's) from ``global_state``,
    trained on ``data.train`` and evaluated with the global model on ``data.test``.

    Use a derived seed, e.g. ``derive_seed(task_seed, "personalize", client_id)``.

    Raises:
        TrainError: no training or test rows, or a state that does not fit the architecture.
    """
    settings = settings or manifest.personalization
    model = model_of(manifest)
    load_state(model, global_state)
    global_metrics = evaluate(model, data.test)
    if settings.mode == "none":
        state = {k: v.detach().clone() for k, v in global_state.items()}
        return PersonalizedResult(state, global_metrics, global_metrics)
    hyper = dataclasses.replace(hyper_of(manifest), epochs=settings.epochs,
                                lr=manifest.lr * settings.lr_scale,
                                fedprox_mu=settings.proximal_mu)
    train_local(model, global_state, data.train, hyper, seed)  # leaves the local weights in model
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if settings.mode == "mix":
        state = {k: settings.mix * v + (1.0 - settings.mix) * global_state[k].to(v.dtype)
                 for k, v in state.items()}
        load_state(model, state)
    return PersonalizedResult(state, global_metrics, evaluate(model, data.test))
