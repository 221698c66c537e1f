"""Differential privacy for one participant's update: clip, add Gaussian noise, account.

Mechanism (per round, per participant; McMahan et al. 2018, "DP-FedAvg", applied by the
participant itself so that it holds in either privacy mode):

    clipped = delta * min(1, C / ||delta||_2)
    noised  = clipped + N(0, (z C)^2 I)

Guarantee: *participant-level* DP under add/remove of one participant's whole update
(its entire local data set), against everyone who sees the noised update (committee,
requester, other members, any auditor) and, by post-processing, the aggregate and every
later model. Each round the participant takes part in is one Gaussian mechanism with
sensitivity ``C`` and noise multiplier ``z`` (sampling rate 1: nothing is subsampled), and
the rounds compose. The privacy spent is tracked by Opacus's RDP accountant
(``opacus.accountants.analysis.rdp``, Mironov 2017; Balle et al. 2020 conversion) and
reported as epsilon at the task's delta.

The noise must be secret: it is drawn from a Philox generator keyed by a 256-bit value
derived from a secret of the participant (:func:`noise_seed`), never from the public task
seed, so nobody else can regenerate and subtract it, while the participant can replay its
own update bit for bit. (Floating-point Gaussian sampling is not a perfect Gaussian;
see Mironov 2012. The guarantee is the textbook one for exact Gaussian noise.)

Errors::

    NodeError
    └── DpError  (bad clip norm, noise multiplier, delta, round count or secret)
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from node.errors import NodeError
from node.numeric import clip_to_norm

__all__ = [
    "DP_KEYS",
    "ORDERS",
    "DpError",
    "DpReport",
    "clip_update",
    "dp_metadata",
    "epsilon_spent",
    "noise_for_epsilon",
    "noise_seed",
    "privatize",
]

ORDERS: tuple[float, ...] = tuple([1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)))
"""The Renyi orders the accountant optimises over (``RDPAccountant.DEFAULT_ALPHAS``; Opacus
is imported only when epsilon is computed, it costs seconds to load)."""

DP_KEYS = ("fedledger.dp.clip", "fedledger.dp.delta", "fedledger.dp.epsilon",
           "fedledger.dp.noise", "fedledger.dp.rounds")
"""Metadata keys a DP update file carries (values are Python float/int reprs); a
distributed-DP update also carries ``fedledger.dp.shares``."""

_NOISE_TAG = b"fedledger/dp-noise/v1"


class DpError(NodeError):
    """Bad DP parameters."""


@dataclass(frozen=True)
class DpReport:
    """What a participant reports for one round's DP update.

    Attributes:
        clip: the clip norm ``C``; noise: the noise multiplier ``z``.
        delta: the delta at which ``epsilon`` holds.
        rounds: rounds this participant has released a noised update in, this one included.
        epsilon: privacy spent over those rounds (inf when ``z == 0``).
        norm: the L2 norm of the update before clipping (stays local: not in metadata).
        shares: distributed DP: the update carries ``1/sqrt(shares)`` of the noise std,
            and ``epsilon`` holds for sums of at least ``shares`` updates.
    """

    clip: float
    noise: float
    delta: float
    rounds: int
    epsilon: float
    norm: float
    shares: int = 1

    def metadata(self) -> dict[str, str]:
        return dp_metadata(epsilon=self.epsilon, delta=self.delta, clip=self.clip,
                           noise=self.noise, rounds=self.rounds, shares=self.shares)


def _check(clip_norm: float | None = None, noise_multiplier: float | None = None,
           delta: float | None = None, rounds: int | None = None) -> None:
    if clip_norm is not None and not (math.isfinite(clip_norm) and clip_norm > 0):
        raise DpError(f"clip norm must be positive and finite, got {clip_norm!r}")
    if noise_multiplier is not None and not (math.isfinite(noise_multiplier)
                                             and noise_multiplier >= 0):
        raise DpError(f"noise multiplier must be >= 0 and finite, got {noise_multiplier!r}")
    if delta is not None and not 0 < delta < 1:
        raise DpError(f"delta must be in (0, 1), got {delta!r}")
    if rounds is not None and (not isinstance(rounds, int) or isinstance(rounds, bool)
                               or rounds < 0):
        raise DpError(f"rounds must be a non-negative int, got {rounds!r}")


def clip_update(delta: np.ndarray, clip_norm: float) -> tuple[np.ndarray, float]:
    """Scale ``delta`` down to L2 norm ``clip_norm`` if it is longer.

    The norm is a strictly ordered float64 sum, so the result is the same on any machine.

    Returns:
        ``(clipped float64 copy, norm before clipping)``.

    Raises:
        DpError: a bad clip norm, a non-1-D or non-finite delta.
    """
    _check(clip_norm=clip_norm)
    flat = np.asarray(delta, dtype=np.float64)
    if flat.ndim != 1 or not np.isfinite(flat).all():
        raise DpError("delta must be a finite 1-D array")
    return clip_to_norm(flat, clip_norm)


def noise_seed(secret: bytes, *, task: int, round_index: int) -> int:
    """A 256-bit noise key from a participant secret (e.g. derived from its account key).

    Raises:
        DpError: a secret shorter than 16 bytes.
    """
    if not isinstance(secret, (bytes, bytearray)) or len(secret) < 16:
        raise DpError("the noise secret must be at least 16 bytes")
    digest = hashlib.sha256(_NOISE_TAG + bytes(secret) + task.to_bytes(32, "big")
                            + round_index.to_bytes(8, "big")).digest()
    return int.from_bytes(digest, "big")


def privatize(delta: np.ndarray, *, clip_norm: float, noise_multiplier: float, delta_dp: float,
              seed: int, rounds_before: int) -> tuple[np.ndarray, DpReport]:
    """Clip, add Gaussian noise, and account for one round.

    Args:
        delta: the flat update.
        clip_norm: ``C``.
        noise_multiplier: ``z`` (noise std is ``z * C``).
        delta_dp: the delta of the reported (epsilon, delta).
        seed: the noise key (:func:`noise_seed`).
        rounds_before: rounds this participant already released a noised update in.

    Returns:
        ``(noised float32 delta, report)``.

    Raises:
        DpError: bad parameters or a non-finite delta.
    """
    _check(clip_norm, noise_multiplier, delta_dp, rounds_before)
    clipped, norm = clip_update(delta, clip_norm)
    rng = np.random.Generator(np.random.Philox(np.random.SeedSequence(seed)))
    noise = rng.standard_normal(clipped.size)
    noised = (clipped + noise * (noise_multiplier * clip_norm)).astype(np.float32)
    rounds = rounds_before + 1
    report = DpReport(clip=float(clip_norm), noise=float(noise_multiplier), delta=float(delta_dp),
                      rounds=rounds, epsilon=epsilon_spent(noise_multiplier, rounds, delta_dp),
                      norm=norm)
    return noised, report


def epsilon_spent(noise_multiplier: float, rounds: int, delta: float, *,
                  sample_rate: float = 1.0) -> float:
    """Epsilon at ``delta`` after ``rounds`` Gaussian releases (Opacus RDP accountant).

    Args:
        noise_multiplier: ``z``; 0 means no privacy (returns inf).
        rounds: composed releases (0 gives 0.0).
        delta: the target delta.
        sample_rate: probability a release includes the participant (1 here: every
            participant submits each round; lower for subsampled settings).

    Raises:
        DpError: bad parameters.
    """
    _check(noise_multiplier=noise_multiplier, delta=delta, rounds=rounds)
    if not 0 < sample_rate <= 1:
        raise DpError(f"sample rate must be in (0, 1], got {sample_rate!r}")
    if rounds == 0:
        return 0.0
    if noise_multiplier == 0:
        return math.inf
    from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent

    rdp = compute_rdp(q=sample_rate, noise_multiplier=noise_multiplier, steps=rounds,
                      orders=list(ORDERS))
    epsilon, _ = get_privacy_spent(orders=list(ORDERS), rdp=rdp, delta=delta)
    return float(epsilon)


def noise_for_epsilon(epsilon: float, rounds: int, delta: float, *,
                      sample_rate: float = 1.0) -> float:
    """The noise multiplier that spends about ``epsilon`` over ``rounds`` (Opacus search).

    The result spends at most ``epsilon`` (Opacus stops within 0.01 below it).

    Raises:
        DpError: bad parameters.
    """
    _check(delta=delta, rounds=rounds)
    if not (math.isfinite(epsilon) and epsilon > 0) or rounds < 1:
        raise DpError(f"need epsilon > 0 and rounds >= 1, got {epsilon!r}, {rounds!r}")
    from opacus.accountants.utils import get_noise_multiplier

    return float(get_noise_multiplier(target_epsilon=epsilon, target_delta=delta,
                                      sample_rate=sample_rate, steps=rounds, accountant="rdp"))


def dp_metadata(*, epsilon: float, delta: float, clip: float, noise: float,
                rounds: int, shares: int = 1) -> dict[str, str]:
    """The ``fedledger.dp.*`` metadata of an update file (``repr`` of each number, so
    the text round-trips exactly); ``fedledger.dp.shares`` only for distributed DP."""
    extra = {"fedledger.dp.shares": str(int(shares))} if shares > 1 else {}
    return {**extra, "fedledger.dp.clip": repr(float(clip)),
            "fedledger.dp.delta": repr(float(delta)), "fedledger.dp.epsilon": repr(float(epsilon)),
            "fedledger.dp.noise": repr(float(noise)), "fedledger.dp.rounds": str(int(rounds))}
