"""node.privacy.dp: clipping, secret-keyed Gaussian noise, and the RDP accountant against Opacus and
against the closed form for the (unsampled) Gaussian mechanism."""

from __future__ import annotations

import math

import numpy as np
import pytest
from opacus.accountants import RDPAccountant

from node.privacy.dp import (
    DP_KEYS,
    ORDERS,
    DpError,
    clip_update,
    dp_metadata,
    epsilon_spent,
    noise_for_epsilon,
    noise_seed,
    privatize,
)


def _closed_form_epsilon(z: float, rounds: int, delta: float) -> float:
    """RDP of the Gaussian mechanism is alpha / (2 z^2) per release (Mironov 2017, Prop. 7);
    converted to (eps, delta) with Balle et al. 2020, Thm. 21, minimised over the orders."""
    best = math.inf
    for alpha in ORDERS:
        rdp = rounds * alpha / (2 * z * z)
        eps = rdp + math.log1p(-1 / alpha) - (math.log(delta) + math.log(alpha)) / (alpha - 1)
        best = min(best, eps)
    return best


def test_clip_scales_long_updates_only() -> None:
    clipped, norm = clip_update(np.array([3.0, 4.0], np.float32), 1.0)
    assert norm == 5.0 and clipped.tolist() == pytest.approx([0.6, 0.8], abs=1e-15)
    short, norm = clip_update(np.array([0.3, 0.4]), 1.0)
    assert norm == pytest.approx(0.5) and short.tolist() == [0.3, 0.4]
    with pytest.raises(DpError):
        clip_update(np.array([np.inf]), 1.0)
    with pytest.raises(DpError):
        clip_update(np.array([1.0]), 0.0)


def test_noise_is_reproducible_from_the_secret_only_and_has_the_right_scale() -> None:
    delta = np.zeros(200_000, np.float32)
    delta[0] = 10.0  # clipped to norm 2
    seed = noise_seed(b"k" * 32, task=1, round_index=4)
    a, report = privatize(delta, clip_norm=2.0, noise_multiplier=0.5, delta_dp=1e-5, seed=seed,
                          rounds_before=2)
    b, _ = privatize(delta, clip_norm=2.0, noise_multiplier=0.5, delta_dp=1e-5, seed=seed,
                     rounds_before=2)
    assert a.dtype == np.float32 and np.array_equal(a, b)
    other = noise_seed(b"j" * 32, task=1, round_index=4)
    assert other != seed and noise_seed(b"k" * 32, task=1, round_index=5) != seed
    noise = a[1:].astype(np.float64)
    # std of 200k N(0, 1) draws is within 1% of 1 with overwhelming probability
    assert noise.std() == pytest.approx(1.0, rel=0.01) and abs(noise.mean()) < 0.02
    assert report.rounds == 3 and report.norm == 10.0
    assert report.epsilon == epsilon_spent(0.5, 3, 1e-5)
    with pytest.raises(DpError):
        noise_seed(b"short", task=1, round_index=1)


@pytest.mark.parametrize(("z", "rounds", "delta"),
                         [(1.0, 1, 1e-5), (3.5, 30, 1e-5), (0.8, 100, 1e-6), (10.0, 5, 1e-3)])
def test_epsilon_equals_opacus_accountant_and_the_closed_form(z: float, rounds: int,
                                                              delta: float) -> None:
    accountant = RDPAccountant()
    for _ in range(rounds):
        accountant.step(noise_multiplier=z, sample_rate=1.0)
    ours = epsilon_spent(z, rounds, delta)
    assert ours == pytest.approx(accountant.get_epsilon(delta), rel=1e-12)
    assert ours == pytest.approx(_closed_form_epsilon(z, rounds, delta), rel=1e-9)


def test_pinned_epsilons_and_edge_cases() -> None:
    assert epsilon_spent(1.0, 1, 1e-5) == pytest.approx(4.728507067217623, rel=1e-12)
    assert epsilon_spent(3.5, 30, 1e-5) == pytest.approx(7.979916426502125, rel=1e-12)
    assert epsilon_spent(1.0, 0, 1e-5) == 0.0 and epsilon_spent(0.0, 1, 1e-5) == math.inf
    assert tuple(RDPAccountant.DEFAULT_ALPHAS) == ORDERS
    # a sampled mechanism spends less than the unsampled one
    assert epsilon_spent(1.0, 10, 1e-5, sample_rate=0.1) < epsilon_spent(1.0, 10, 1e-5)
    with pytest.raises(DpError):
        epsilon_spent(1.0, 1, 0.0)


@pytest.mark.parametrize("target", [1.0, 4.0, 8.0])
def test_noise_for_epsilon_spends_at_most_the_target(target: float) -> None:
    z = noise_for_epsilon(target, 30, 1e-5)
    assert target - 0.1 < epsilon_spent(z, 30, 1e-5) <= target


def test_metadata_keys_and_exact_round_trip() -> None:
    meta = dp_metadata(epsilon=7.979916426502125, delta=1e-5, clip=0.1, noise=3.5, rounds=30)
    assert tuple(sorted(meta)) == DP_KEYS
    assert float(meta["fedledger.dp.epsilon"]) == 7.979916426502125
    assert meta == {"fedledger.dp.clip": "0.1", "fedledger.dp.delta": "1e-05",
                    "fedledger.dp.epsilon": "7.979916426502125", "fedledger.dp.noise": "3.5",
                    "fedledger.dp.rounds": "30"}
