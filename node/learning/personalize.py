"""Personalization: fine-tune the global model on one's own data and keep the result.

The personalized model never leaves the participant (it is not an update); what is
reported is the global model's and the personalized model's metrics on the same
held-out local rows, so a participant sees what fine-tuning bought it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from node.data.datasets import ClientData
from node.learning.train import EvalMetrics, TrainHyper, evaluate, load_state, train_local

__all__ = ["PersonalizedResult", "personalize"]


@dataclass(frozen=True)
class PersonalizedResult:
    """Global vs personalized metrics on the participant's held-out data.

    Attributes:
        state: the personalized weights (float32), to keep locally.
        global_metrics: the global model on the held-out rows.
        personal_metrics: the fine-tuned model on the same rows.
    """

    state: dict[str, torch.Tensor]
    global_metrics: EvalMetrics
    personal_metrics: EvalMetrics


def personalize(model: nn.Module, global_state: Mapping[str, torch.Tensor], data: ClientData,
                hyper: TrainHyper, seed: int) -> PersonalizedResult:
    """Fine-tunes ``global_state`` on ``data.train`` for ``hyper.epochs`` and evaluates both.

    Use a derived seed, e.g. ``derive_seed(task_seed, "personalize", client_id)``.

    Raises:
        TrainError: no training or test rows, or a state that does not fit ``model``.
    """
    load_state(model, global_state)
    global_metrics = evaluate(model, data.test)
    train_local(model, global_state, data.train, hyper, seed)  # leaves the local weights in model
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return PersonalizedResult(state=state, global_metrics=global_metrics,
                              personal_metrics=evaluate(model, data.test))
