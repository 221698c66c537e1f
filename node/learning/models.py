"""A registry of named model architectures built from manifest parameters.

A task manifest names an architecture and its parameters; the code lives here on the
node and is never fetched. Every model takes flat float32 features ``[n, n_features]``
and returns logits: ``[n, 1]`` for a binary task (``n_classes == 2``), ``[n, n_classes]``
otherwise. No model has buffers (no batch norm): the state dict is exactly the float32
parameters, so a model file holds weights only. ``build_model`` initialises under a
given seed without touching the caller's global RNG, so the genesis model is
reproducible anywhere.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from node.errors import NodeError

__all__ = ["ARCHITECTURES", "ModelError", "build_model", "output_width"]


class ModelError(NodeError):
    """An unknown architecture or parameters it cannot be built from."""


def output_width(n_classes: int) -> int:
    """One logit for a binary task, one per class otherwise."""
    return 1 if n_classes == 2 else n_classes


def _positive_int(params: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelError(f"model parameter {name!r} must be a positive integer, got {value!r}")
    return value


def _classes(params: Mapping[str, Any]) -> int:
    n_classes = _positive_int(params, "n_classes")
    if n_classes < 2:
        raise ModelError(f"model parameter 'n_classes' must be >= 2, got {n_classes}")
    return n_classes


def _logreg(params: Mapping[str, Any]) -> nn.Module:
    return nn.Linear(_positive_int(params, "n_features"), output_width(_classes(params)))


def _mlp(params: Mapping[str, Any]) -> nn.Module:
    hidden = params.get("hidden", [64])
    if not isinstance(hidden, (list, tuple)) or not hidden:
        raise ModelError(f"model parameter 'hidden' must be a non-empty list, got {hidden!r}")
    widths = [_positive_int(params, "n_features")]
    widths += [_positive_int({"hidden": h}, "hidden") for h in hidden]
    layers: list[nn.Module] = []
    for w_in, w_out in itertools.pairwise(widths):
        layers += [nn.Linear(w_in, w_out), nn.ReLU()]
    layers.append(nn.Linear(widths[-1], output_width(_classes(params))))
    return nn.Sequential(*layers)


class _Cnn8x8(nn.Module):
    """Two 3x3 convolutions (8x8 -> 4x4 -> 2x2) and a linear head, for 8x8 digits."""

    def __init__(self, channels: int, n_classes: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1)
        self.head = nn.Linear(2 * channels * 2 * 2, output_width(n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(-1, 1, 8, 8)
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.head(x.flatten(1))


def _cnn8x8(params: Mapping[str, Any]) -> nn.Module:
    n_features = params.get("n_features", 64)
    if n_features != 64:
        raise ModelError(f"cnn8x8 needs n_features == 64, got {n_features!r}")
    return _Cnn8x8(_positive_int(params, "channels", 8), _classes(params))


ARCHITECTURES: Mapping[str, Callable[[Mapping[str, Any]], nn.Module]] = {
    "cnn8x8": _cnn8x8,
    "logreg": _logreg,
    "mlp": _mlp,
}


def build_model(architecture: str, params: Mapping[str, Any], *, seed: int) -> nn.Module:
    """Builds a registered architecture with parameters initialised under ``seed``.

    The caller's global torch RNG state is saved and restored around the build.

    Raises:
        ModelError: unknown architecture name or invalid parameters.
    """
    builder = ARCHITECTURES.get(architecture)
    if builder is None:
        raise ModelError(
            f"unknown architecture {architecture!r}; registered: {sorted(ARCHITECTURES)}"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = builder(params)
    model.float()
    return model
