"""The task loss every training path and evaluation uses (one definition, so the plain
loop, DP-SGD's per-example gradients and evaluation cannot drift apart)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["task_loss"]


def task_loss(logits: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Binary cross-entropy on one logit, else cross-entropy over the classes."""
    if logits.shape[1] == 1:  # binary task: one logit
        return nn.functional.binary_cross_entropy_with_logits(
            logits[:, 0], y.to(torch.float32), reduction=reduction)
    return nn.functional.cross_entropy(logits, y, reduction=reduction)
