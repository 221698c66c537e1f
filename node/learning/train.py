"""Local training and evaluation: plain functions over a model and tensors.

Determinism: a participant's round must give the same bits in the simulator and in its
own node process, so (1) all randomness (batch order) comes from a ``torch.Generator``
seeded with the derived seed passed in, never from global state, and (2) training runs
with ``torch.set_num_threads(1)``: intra-op parallelism splits reductions differently
with the thread count, which changes float rounding, so one thread gives identical bits
across processes whatever the machine's core count.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from node.data.datasets import TensorData
from node.errors import NodeError
from node.learning.dp_sgd import DpSgd, DpSgdStep
from node.learning.loss import task_loss

__all__ = [
    "EvalMetrics",
    "LocalResult",
    "TrainError",
    "TrainHyper",
    "evaluate",
    "load_state",
    "predict_logits",
    "single_thread",
    "train_local",
    "use_one_thread",
]


class TrainError(NodeError):
    """Bad hyper-parameters, a parent state that does not fit the model, or a loss that
    went non-finite."""


@dataclass(frozen=True)
class TrainHyper:
    """Local training settings (from the task manifest).

    Raises:
        TrainError: a non-positive epoch count, batch size or learning rate, or an
            unknown optimizer.
    """

    epochs: int
    batch_size: int
    optimizer: str = "sgd"
    lr: float = 0.1
    fedprox_mu: float = 0.0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0 or self.fedprox_mu < 0:
            raise TrainError(f"invalid hyper-parameters {self}")
        if self.optimizer not in ("sgd", "adam"):
            raise TrainError(f"unknown optimizer {self.optimizer!r}")


@dataclass(frozen=True)
class EvalMetrics:
    """Mean loss, accuracy, ROC-AUC (binary tasks with both classes present) and count."""

    loss: float
    accuracy: float
    auc: float | None
    n: int

    def as_dict(self) -> dict[str, float | int | None]:
        return {"loss": self.loss, "accuracy": self.accuracy, "auc": self.auc, "n": self.n}


@dataclass(frozen=True)
class LocalResult:
    """A local update: ``delta`` = local weights - parent weights (float32)."""

    delta: dict[str, torch.Tensor]
    num_samples: int
    metrics: Mapping[str, float] = field(default_factory=dict)


def use_one_thread() -> None:
    """One intra-op thread for the whole process (a node process: one per participant).

    Training already runs on one thread (``single_thread``); outside it torch would use a
    pool of every core, whose idle workers spin, and nine node processes on two cores then
    spend their time spinning against each other. Switching the pool's size back and forth
    around each training call is not free either.
    """
    torch.set_num_threads(1)


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Runs the block with one intra-op thread (identical bits across processes)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def load_state(model: nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    """Copies ``state`` into ``model`` (names and shapes must match exactly).

    Raises:
        TrainError: missing, extra or mis-shaped tensors.
    """
    own = model.state_dict()
    if set(own) != set(state):
        raise TrainError(f"state names {sorted(state)} do not match model {sorted(own)}")
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(own[name].shape):
            raise TrainError(f"tensor {name!r} has shape {tuple(tensor.shape)}, "
                             f"model wants {tuple(own[name].shape)}")
    model.load_state_dict({k: v.to(torch.float32) for k, v in state.items()}, strict=True)


class _GradientStep:
    """One plain (or FedProx) step's gradients: the batch loss, backpropagated."""

    def __init__(self, model: nn.Module, parent: Mapping[str, torch.Tensor],
                 fedprox_mu: float) -> None:
        self._model = model
        self._params = dict(model.named_parameters())
        self._parent = parent
        self._mu = fedprox_mu

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> float:
        for p in self._params.values():
            p.grad = None
        loss = task_loss(self._model(x), y)
        value = float(loss.detach())
        if self._mu > 0:
            prox = sum(((p - self._parent[k]) ** 2).sum() for k, p in self._params.items())
            loss = loss + 0.5 * self._mu * prox
        if not torch.isfinite(loss):
            raise TrainError("loss became non-finite; lower the learning rate")
        loss.backward()
        return value


def train_local(model: nn.Module, parent_state: Mapping[str, torch.Tensor], data: TensorData,
                hyper: TrainHyper, seed: int, *, dp_sgd: DpSgd | None = None) -> LocalResult:
    """Trains ``model`` from ``parent_state`` on ``data`` and returns the weight delta.

    Batches are drawn by a permutation per epoch from a generator seeded with ``seed``
    (use ``derive_seed(task_seed, "train", round, client_id)``). With ``fedprox_mu > 0``
    the loss adds ``mu / 2 * ||w - w_parent||^2`` (FedProx). With ``dp_sgd`` (record-level
    DP, ``node.learning.dp_sgd``) each step clips every example's gradient and adds secret
    noise instead of backpropagating the batch loss; the loop is the same.

    Raises:
        TrainError: no training rows, a parent state that does not fit, or a
            non-finite loss (or, under DP-SGD, non-finite weights).
        DpError: distributed DP noise asked for with more than one step per round.
    """
    n = len(data)
    if n == 0:
        raise TrainError("no training rows")
    load_state(model, parent_state)
    parent = {k: v.detach().to(torch.float32).clone() for k, v in model.state_dict().items()}
    params = dict(model.named_parameters())
    if hyper.optimizer == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(params.values(), lr=hyper.lr)
    else:
        optimizer = torch.optim.Adam(params.values(), lr=hyper.lr)
    if dp_sgd is None:
        step = _GradientStep(model, parent, hyper.fedprox_mu)
    else:
        step = DpSgdStep(model, parent, dp_sgd, n_rows=n, batch_size=hyper.batch_size,
                         epochs=hyper.epochs, fedprox_mu=hyper.fedprox_mu)
    generator = torch.Generator().manual_seed(seed)
    last_epoch_loss = math.nan
    with single_thread():
        model.train()
        for _ in range(hyper.epochs):
            order = torch.randperm(n, generator=generator)
            total = 0.0
            for start in range(0, n, hyper.batch_size):
                batch = order[start:start + hyper.batch_size]
                total += step(data.x[batch], data.y[batch]) * len(batch)
                optimizer.step()
            last_epoch_loss = total / n
        model.eval()
        # A DP-SGD step never sees the loss it would blow up on; check the weights instead.
        if dp_sgd is not None and not all(torch.isfinite(p).all() for p in model.parameters()):
            raise TrainError("weights became non-finite; lower the learning rate")
        delta = {k: (v.detach().to(torch.float32) - parent[k]).contiguous()
                 for k, v in model.state_dict().items()}
    return LocalResult(delta=delta, num_samples=n, metrics={"train_loss": last_epoch_loss})


def predict_logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Logits for ``x`` in eval mode, single-threaded, without gradients."""
    with single_thread(), torch.no_grad():
        model.eval()
        return model(x)


def evaluate(model: nn.Module, data: TensorData) -> EvalMetrics:
    """Loss, accuracy and (binary tasks) ROC-AUC of ``model`` on ``data``.

    Raises:
        TrainError: no rows to evaluate.
    """
    n = len(data)
    if n == 0:
        raise TrainError("no rows to evaluate")
    logits = predict_logits(model, data.x)
    loss = float(task_loss(logits, data.y))
    auc: float | None = None
    if logits.shape[1] == 1:
        predicted = (logits[:, 0] > 0).to(torch.int64)
        y = data.y.numpy()
        if 0 < int(y.sum()) < n:
            from sklearn.metrics import roc_auc_score

            auc = float(roc_auc_score(y, logits[:, 0].numpy().astype(np.float64)))
    else:
        predicted = logits.argmax(dim=1)
    accuracy = float((predicted == data.y).to(torch.float64).mean())
    return EvalMetrics(loss=loss, accuracy=accuracy, auc=auc, n=n)
