"""Record-level differential privacy: DP-SGD inside local training (Abadi et al. 2016).

Each step computes every example's gradient (``torch.func``: ``vmap`` over ``grad``),
clips each one to L2 norm ``C``, sums them, adds ``N(0, (z C)^2 I)`` and divides by the
batch size, then takes the usual optimizer step. One example changes each step's noised
sum by at most ``C``, so each step is a Gaussian mechanism for *one record* of the
participant's data, and every later step, round, the aggregate and later models are
post-processing.

Accounting (Opacus RDP accountant): each step is a subsampled Gaussian mechanism with
``sample_rate = batch_size / n_local``; a round takes
``epochs * ceil(n_local / batch_size)`` steps and the rounds compose. Approximation,
stated honestly: the RDP analysis assumes Poisson sampling (each example in each batch
independently with probability ``q``), while training uses shuffled fixed-size batches
(one permutation per epoch), as most DP-SGD code does; the reported epsilon is the
Poisson-sampling epsilon, not a proof for shuffling.

Distributed noise (``noise_shares = m > 1``, secure mode only; ``node.aggregation.secure_round`` and
the manifest enforce the rest): each participant adds noise of std ``z C / sqrt(m)`` and
takes ONE full-batch step dividing by its own row count ``n``, so its pre-weighted update
``n * delta = -lr * (sum of clipped gradients + noise share)``. A secure sum of at least
``m`` such updates is ``-lr`` times the clipped gradient sum over everyone's rows plus
noise of std at least ``z C``: the same Gaussian mechanism as central DP-SGD on the pooled
data (sampling rate 1), against anyone who sees only the sum (committee, requester,
auditors, later models). Against a coalition of ``k`` participants, who know their own
shares, the noise left is ``sqrt((m - k) / m)`` of that. Rounding each share to the ring's
fixed point (resolution ``2**-frac_bits``) before summing is ignored by the analysis, as is
floating-point sampling.

The noise comes from a ``torch.Generator`` keyed by the participant's secret noise key
(``node.privacy.dp.noise_seed`` of ``node.runtime.private_update.dp_secret``), separate from the batch
order generator: nobody else can regenerate it, the participant can replay its update
bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from node.learning.loss import task_loss
from node.privacy.dp import DpError, epsilon_spent, noise_for_epsilon

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``loss(logits, labels)`` with mean reduction (``node.learning.train._loss``)."""

__all__ = [
    "DpSgd",
    "DpSgdStep",
    "clip_per_example",
    "noise_for_record_epsilon",
    "per_example_grads",
    "record_epsilon",
    "record_sample_rate",
    "record_steps",
]


@dataclass(frozen=True)
class DpSgd:
    """DP-SGD settings for one participant's round.

    Attributes:
        clip_norm: ``C``, the L2 bound of each example's gradient.
        noise_multiplier: ``z``; the noise std on the summed gradient is ``z * C``.
        noise_key: the secret noise key (``node.privacy.dp.noise_seed``), any non-negative int.
        noise_shares: ``m``: add ``1/sqrt(m)`` of the noise std (distributed noise, see the
            module docstring); 1 adds all of it.

    Raises:
        DpError: a non-positive clip norm, a negative noise multiplier or key, or fewer
            than one noise share.
    """

    clip_norm: float
    noise_multiplier: float
    noise_key: int
    noise_shares: int = 1

    def __post_init__(self) -> None:
        if not (math.isfinite(self.clip_norm) and self.clip_norm > 0):
            raise DpError(f"clip norm must be positive and finite, got {self.clip_norm!r}")
        if not (math.isfinite(self.noise_multiplier) and self.noise_multiplier >= 0):
            raise DpError(f"noise multiplier must be >= 0, got {self.noise_multiplier!r}")
        if not isinstance(self.noise_key, int) or self.noise_key < 0:
            raise DpError("noise key must be a non-negative int")
        if not isinstance(self.noise_shares, int) or self.noise_shares < 1:
            raise DpError(f"noise shares must be an int >= 1, got {self.noise_shares!r}")


def record_steps(n_local: int, batch_size: int, epochs: int) -> int:
    """DP-SGD steps in one round: ``epochs * ceil(n_local / batch_size)``."""
    return epochs * math.ceil(n_local / batch_size)


def record_sample_rate(n_local: int, batch_size: int) -> float:
    """The accountant's sampling rate ``min(1, batch_size / n_local)``."""
    return min(1.0, batch_size / n_local)


def record_epsilon(noise_multiplier: float, *, n_local: int, batch_size: int, epochs: int,
                   rounds: int, delta: float) -> float:
    """Epsilon at ``delta`` after ``rounds`` DP-SGD rounds (Opacus RDP accountant).

    Raises:
        DpError: bad parameters (e.g. no local rows).
    """
    if n_local < 1 or batch_size < 1 or epochs < 1:
        raise DpError(f"need n_local, batch_size, epochs >= 1, got {n_local}, {batch_size}, "
                      f"{epochs}")
    steps = record_steps(n_local, batch_size, epochs) * rounds
    return epsilon_spent(noise_multiplier, steps, delta,
                         sample_rate=record_sample_rate(n_local, batch_size))


def noise_for_record_epsilon(epsilon: float, *, n_local: int, batch_size: int, epochs: int,
                             rounds: int, delta: float) -> float:
    """The DP-SGD noise multiplier that spends about ``epsilon`` over ``rounds`` rounds for a
    participant with ``n_local`` rows (Opacus search; at most ``epsilon``, within 0.01).

    A smaller ``n_local`` spends more (higher sampling rate), so calibrate a task for its
    smallest participant.

    Raises:
        DpError: bad parameters.
    """
    if n_local < 1 or batch_size < 1 or epochs < 1 or rounds < 1:
        raise DpError("need n_local, batch_size, epochs, rounds >= 1")
    steps = record_steps(n_local, batch_size, epochs) * rounds
    return noise_for_epsilon(epsilon, steps, delta,
                             sample_rate=record_sample_rate(n_local, batch_size))


def per_example_grads(model: nn.Module, loss_fn: LossFn, x: torch.Tensor,
                      y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each example's gradient of ``loss_fn(logits, y)`` (name -> ``[batch, *shape]``)."""
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def one(p: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor) -> torch.Tensor:
        logits = functional_call(model, (p, buffers), (xi.unsqueeze(0),))
        return loss_fn(logits, yi.unsqueeze(0))

    return vmap(grad(one), in_dims=(None, 0, 0))(params, x, y)


def clip_per_example(grads: Mapping[str, torch.Tensor],
                     clip_norm: float) -> dict[str, torch.Tensor]:
    """Scales each example's gradient (over all tensors) to L2 norm at most ``clip_norm``."""
    norms = torch.sqrt(sum((g.reshape(g.shape[0], -1) ** 2).sum(dim=1) for g in grads.values()))
    factor = (clip_norm / (norms + 1e-12)).clamp(max=1.0)
    return {k: g * factor.reshape(-1, *([1] * (g.dim() - 1))) for k, g in grads.items()}


class DpSgdStep:
    """One DP-SGD step's gradients for ``node.learning.train.train_local``'s loop: each
    example's gradient clipped, summed, noised and divided, left in ``.grad``.

    Raises:
        DpError: distributed noise asked for with more than one step per round.
    """

    def __init__(self, model: nn.Module, parent: Mapping[str, torch.Tensor], dp: DpSgd, *,
                 n_rows: int, batch_size: int, epochs: int, fedprox_mu: float) -> None:
        if dp.noise_shares > 1 and (epochs != 1 or n_rows > batch_size):
            raise DpError(f"distributed DP takes one full-batch step per round; got {epochs} "
                          f"epoch(s) of batches of {batch_size} over {n_rows} rows")
        self._model = model
        self._params = dict(model.named_parameters())
        self._parent = parent
        self._dp = dp
        self._mu = fedprox_mu
        self._noise = torch.Generator().manual_seed(dp.noise_key % (2**63))
        self._std = dp.noise_multiplier * dp.clip_norm / math.sqrt(dp.noise_shares)
        # Opacus divides by the expected batch size; distributed noise divides the one full
        # batch by its row count, so that n * delta is the noised clipped sum (times -lr).
        self._divisor = n_rows if dp.noise_shares > 1 else batch_size

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> float:
        """Sets every parameter's ``.grad``; returns the batch's mean loss (before clipping
        and noise)."""
        with torch.no_grad():
            value = float(task_loss(self._model(x), y))
        clipped = clip_per_example(per_example_grads(self._model, task_loss, x, y),
                                   self._dp.clip_norm)
        for name, p in self._params.items():
            summed = clipped[name].sum(dim=0)
            noise = torch.randn(summed.shape, generator=self._noise, dtype=summed.dtype)
            g = (summed + self._std * noise) / self._divisor
            if self._mu > 0:  # data-independent: needs no clipping or noise
                g = g + self._mu * (p.detach() - self._parent[name])
            p.grad = g
        return value
