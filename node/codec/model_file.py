"""The global-model file: model weights plus the server optimizer's state.

A global model file is a canonical safetensors file (:mod:`node.codec.safetensors`)
holding the architecture's weights and, for stateful server optimizers (FedAdam,
momentum), extra float32 tensors named ``server_opt/<slot>/<parameter name>``, so a
round's result depends only on the parent model's bytes and the updates.
"""

from __future__ import annotations

from collections.abc import Mapping

from node.codec.safetensors import DTYPE, Layout

__all__ = ["STATE_PREFIX", "split_state", "state_layout", "state_tensor_name"]

STATE_PREFIX = "server_opt/"
"""Tensors whose name starts with this are optimizer state, not model weights."""


def state_tensor_name(slot: str, parameter: str) -> str:
    """The tensor name under which state ``slot`` of ``parameter`` is stored."""
    return f"{STATE_PREFIX}{slot}/{parameter}"


def state_layout(layout: Layout, slots: tuple[str, ...]) -> dict[str, tuple[tuple[int, ...], str]]:
    """Layout of the state tensors for ``slots`` over the model ``layout``."""
    return {state_tensor_name(slot, name): (tuple(shape), DTYPE)
            for slot in slots for name, (shape, _) in sorted(layout.items())}


def split_state(tensors: Mapping[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """Split a decoded model file into ``(weights, state tensors)`` by name prefix.

    Use this before loading a model file into a module: the weights part has exactly
    the architecture's names.
    """
    weights = {k: v for k, v in tensors.items() if not k.startswith(STATE_PREFIX)}
    state = {k: v for k, v in tensors.items() if k.startswith(STATE_PREFIX)}
    return weights, state
