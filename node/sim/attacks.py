"""Simulated misbehaviour, for robustness experiments only (never used by a real node).

Two classic model-poisoning attacks: a *sign flip* scales the honest delta by
``-factor`` (pushes the global model the wrong way, hard), and a *label flip* trains
honestly on labels mapped ``y -> n_classes - 1 - y`` (a data-poisoning attack).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from node.errors import NodeError

if TYPE_CHECKING:  # torch only when an attack runs: `fedledger simulate --help` lists the kinds
    import torch

    from node.data.datasets import ClientData

__all__ = ["ATTACK_KINDS", "Attack", "flip_labels", "scale_delta"]

ATTACK_KINDS = ("label_flip", "sign_flip")


@dataclass(frozen=True)
class Attack:
    """An attacker's behaviour.

    Attributes:
        kind: ``"sign_flip"`` or ``"label_flip"``.
        factor: magnitude of the sign flip (the delta is multiplied by ``-factor``).

    Raises:
        NodeError: unknown kind.
    """

    kind: str
    factor: float = 10.0

    def __post_init__(self) -> None:
        if self.kind not in ATTACK_KINDS:
            raise NodeError(f"unknown attack {self.kind!r}; choose from {ATTACK_KINDS}")


def flip_labels(data: ClientData, n_classes: int) -> ClientData:
    """The same client with training labels mapped ``y -> n_classes - 1 - y``."""
    from node.data.datasets import TensorData

    flipped = TensorData(data.train.x, (n_classes - 1) - data.train.y)
    return replace(data, train=flipped)


def scale_delta(delta: Mapping[str, torch.Tensor], factor: float) -> dict[str, torch.Tensor]:
    """``delta * factor`` per tensor, float32."""
    import torch

    return {k: (v.to(torch.float32) * float(factor)).contiguous() for k, v in delta.items()}
