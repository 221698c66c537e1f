"""Flat parameter vectors in canonical order.

Aggregation rules see a model or an update as one 1-D vector: the tensors of a layout
concatenated in sorted-name order (the same order the codec writes them). These helpers
convert between that vector and ``{name: tensor}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch

from node.codec.safetensors import Layout, LayoutMismatchError

__all__ = ["flatten", "layout_size", "unflatten"]


def layout_size(layout: Layout) -> int:
    """Number of scalar values in ``layout``."""
    return sum(math.prod(shape) for shape, _ in layout.values())


def flatten(
    tensors: Mapping[str, torch.Tensor | np.ndarray],
    layout: Layout,
    *,
    dtype: type[np.floating] = np.float32,
) -> np.ndarray:
    """Concatenate ``tensors`` in sorted layout order into a fresh 1-D array.

    Args:
        tensors: name -> tensor; must have exactly the names and shapes of ``layout``.
        layout: the model layout.
        dtype: element type of the result (float32 keeps the values exact).

    Returns:
        A new contiguous 1-D array of ``layout_size(layout)`` values.

    Raises:
        LayoutMismatchError: names or shapes differ from ``layout``.
    """
    if set(tensors) != set(layout):
        raise LayoutMismatchError(
            f"tensor names differ: missing {sorted(set(layout) - set(tensors))}, "
            f"unexpected {sorted(set(tensors) - set(layout))}")
    out = np.empty(layout_size(layout), dtype=dtype)
    position = 0
    for name in sorted(layout):
        shape = tuple(layout[name][0])
        value = tensors[name]
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        if tuple(array.shape) != shape:
            raise LayoutMismatchError(
                f"tensor {name!r} has shape {list(array.shape)}, expected {list(shape)}")
        size = math.prod(shape)
        out[position:position + size] = array.reshape(-1)
        position += size
    return out


def unflatten(vector: np.ndarray, layout: Layout) -> dict[str, np.ndarray]:
    """Split a flat vector back into ``{name: array}`` (views into ``vector``).

    Args:
        vector: 1-D array of ``layout_size(layout)`` values.
        layout: the model layout.

    Returns:
        name -> array of the layout's shape, in sorted name order.

    Raises:
        LayoutMismatchError: the vector length differs from the layout size.
    """
    if vector.ndim != 1 or vector.size != layout_size(layout):
        raise LayoutMismatchError(
            f"vector of shape {vector.shape} does not hold {layout_size(layout)} values")
    result: dict[str, np.ndarray] = {}
    position = 0
    for name in sorted(layout):
        shape = tuple(layout[name][0])
        size = math.prod(shape)
        result[name] = vector[position:position + size].reshape(shape)
        position += size
    return result
