"""Server optimizers: how an aggregated delta moves the global model.

The aggregated delta is treated as a pseudo-gradient step (Reddi et al., 2021,
"Adaptive Federated Optimization"). Optimizer state (momentum, second moments) is stored
inside the model file itself, as extra float32 tensors named
``server_opt/<slot>/<parameter name>``, so a round's result depends only on the parent
model's bytes and the updates: any committee member or auditor can replay it.

Arithmetic is elementwise float64 (numpy ufuncs, each op correctly rounded), the state is
read from and written back as float32, so replays are bit-exact.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping

import numpy as np

from node.aggregation.fedavg import RuleParamsError
from node.codec.model_file import state_layout
from node.codec.safetensors import Layout, LayoutMismatchError

__all__ = [
    "FedAdam",
    "PlainStep",
    "ServerMomentum",
    "ServerOptimizer",
    "check_state_names",
]

State = dict[str, np.ndarray]
"""slot name -> flat float64 vector (same length as the model)."""


def _number(name: str, value: object, *, low: float, high: float = math.inf,
            low_open: bool = False) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise RuleParamsError(f"{name} must be a number, got {value!r}")
    number = float(value)
    above = low < number if low_open else low <= number
    if not (above and number <= high):
        raise RuleParamsError(f"{name}={number} is out of range")
    return number


class ServerOptimizer(ABC):
    """Applies an aggregated delta to the parent weights, with optional state."""

    slots: tuple[str, ...] = ()
    """Names of the state vectors this optimizer keeps (stored in the model file)."""

    @abstractmethod
    def step(self, parent: np.ndarray, delta: np.ndarray,
             state: State) -> tuple[np.ndarray, State]:
        """Return ``(new weights, new state)``, all float64.

        Args:
            parent: parent weights, float64 flat.
            delta: aggregated delta, float64 flat.
            state: current state per slot (zeros at the first round).
        """


class PlainStep(ServerOptimizer):
    """``new = parent + lr * delta``; with ``lr == 1`` this is FedAvg exactly."""

    def __init__(self, *, lr: float = 1.0) -> None:
        self.lr = _number("lr", lr, low=0.0, low_open=True)

    def step(self, parent: np.ndarray, delta: np.ndarray,
             state: State) -> tuple[np.ndarray, State]:
        if self.lr == 1.0:
            return parent + delta, {}
        return parent + self.lr * delta, {}


class ServerMomentum(ServerOptimizer):
    """FedAvgM (Hsu et al., 2019): ``v = momentum * v + delta``; ``new = parent + lr * v``."""

    slots = ("momentum",)

    def __init__(self, *, lr: float = 1.0, momentum: float = 0.9) -> None:
        self.lr = _number("lr", lr, low=0.0, low_open=True)
        self.momentum = _number("momentum", momentum, low=0.0, high=1.0)

    def step(self, parent: np.ndarray, delta: np.ndarray,
             state: State) -> tuple[np.ndarray, State]:
        velocity = self.momentum * state["momentum"] + delta
        return parent + self.lr * velocity, {"momentum": velocity}


class FedAdam(ServerOptimizer):
    """FedAdam (Reddi et al., 2021), no bias correction, as in the paper::

        m = beta1 * m + (1 - beta1) * delta
        v = beta2 * v + (1 - beta2) * delta**2
        new = parent + lr * m / (sqrt(v) + tau)
    """

    slots = ("m", "v")

    def __init__(self, *, lr: float = 0.01, beta1: float = 0.9, beta2: float = 0.99,
                 tau: float = 1e-3) -> None:
        self.lr = _number("lr", lr, low=0.0, low_open=True)
        self.beta1 = _number("beta1", beta1, low=0.0, high=1.0)
        self.beta2 = _number("beta2", beta2, low=0.0, high=1.0)
        self.tau = _number("tau", tau, low=0.0, low_open=True)

    def step(self, parent: np.ndarray, delta: np.ndarray,
             state: State) -> tuple[np.ndarray, State]:
        m = self.beta1 * state["m"] + (1.0 - self.beta1) * delta
        v = self.beta2 * state["v"] + (1.0 - self.beta2) * (delta * delta)
        new = parent + self.lr * m / (np.sqrt(v) + self.tau)
        return new, {"m": m, "v": v}


def check_state_names(state_tensors: Mapping[str, object], layout: Layout,
                      slots: tuple[str, ...]) -> bool:
    """Whether a model file's state tensors are absent (False) or complete (True).

    Raises:
        LayoutMismatchError: some but not all expected state tensors, or foreign ones.
    """
    if not state_tensors:
        return False
    expected = state_layout(layout, slots)
    if set(state_tensors) != set(expected):
        raise LayoutMismatchError(
            f"server optimizer state differs: missing {sorted(set(expected) - set(state_tensors))}"
            f", unexpected {sorted(set(state_tensors) - set(expected))}")
    return True
