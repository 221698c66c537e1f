"""Record-level DP (node.learning.dp_sgd): per-example clipping, secret-keyed DP-SGD noise, the
record-level accountant against Opacus, and the ``dp.level`` manifest field."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from opacus.accountants import RDPAccountant
from torch import nn

from ledger.manifest import DpSettings, ManifestError, TaskManifest
from node.data.datasets import TensorData
from node.learning.dp_sgd import (
    DpSgd,
    clip_per_example,
    noise_for_record_epsilon,
    per_example_grads,
    record_epsilon,
    record_sample_rate,
    record_steps,
)
from node.learning.task import client_update_bytes, genesis_model_bytes
from node.learning.train import TrainHyper, train_local
from node.privacy.dp import DpError
from node.requester.presets import preset_manifest
from node.runtime.private_update import private_payload, record_noise_key
from node.sim.setup import SimulationSetup, build_clients


def _ce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(logits, y)


def _tiny() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    x = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.1, 0.0], [-5.0, 4.0, 9.0]])
    y = torch.tensor([0, 1, 1])
    return model, x, y


def test_per_example_grads_equal_one_backward_per_example() -> None:
    model, x, y = _tiny()
    grads = per_example_grads(model, _ce, x, y)
    for i in range(3):
        model.zero_grad()
        _ce(model(x[i:i + 1]), y[i:i + 1]).backward()
        for name, p in model.named_parameters():
            assert torch.allclose(grads[name][i], p.grad, atol=1e-6)


def test_clipping_bounds_each_example_and_leaves_short_ones_alone() -> None:
    grads = {"w": torch.tensor([[3.0, 0.0], [0.3, 0.0], [0.0, 0.0]]),
             "b": torch.tensor([[4.0], [0.4], [0.0]])}
    clipped = clip_per_example(grads, 1.0)
    # example 0 had norm 5 -> scaled to 1; example 1 norm 0.5 unchanged; example 2 zero
    assert clipped["w"][0].tolist() == pytest.approx([0.6, 0.0])
    assert clipped["b"][0].tolist() == pytest.approx([0.8])
    assert torch.equal(clipped["w"][1], grads["w"][1]) and torch.equal(clipped["b"][1],
                                                                        grads["b"][1])
    assert clipped["w"][2].tolist() == [0.0, 0.0] and clipped["b"][2].tolist() == [0.0]
    model, x, y = _tiny()
    real = clip_per_example(per_example_grads(model, _ce, x, y), 0.05)
    norms = torch.sqrt(sum((g.reshape(3, -1) ** 2).sum(1) for g in real.values()))
    assert (norms <= 0.05 * (1 + 1e-6)).all() and norms.max() > 0.049


def _data() -> TensorData:
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(40, 3, generator=generator)
    return TensorData(x=x, y=(x[:, 0] > 0).to(torch.int64))


def _delta(noise_key: int, noise: float = 1.0) -> bytes:
    model, _, _ = _tiny()
    parent = {k: v.clone() for k, v in model.state_dict().items()}
    result = train_local(model, parent, _data(), TrainHyper(epochs=2, batch_size=8, lr=0.5), 7,
                         dp_sgd=DpSgd(clip_norm=1.0, noise_multiplier=noise,
                                      noise_key=noise_key))
    return b"".join(v.numpy().tobytes() for v in result.delta.values())


def test_dp_sgd_is_deterministic_and_keyed_by_the_secret() -> None:
    key = record_noise_key(b"s" * 32, task=1, round_index=2)
    assert _delta(key) == _delta(key)
    assert _delta(key) != _delta(record_noise_key(b"t" * 32, task=1, round_index=2))
    with pytest.raises(DpError):
        DpSgd(clip_norm=0.0, noise_multiplier=1.0, noise_key=1)


def test_noiseless_dp_sgd_with_a_huge_clip_is_plain_sgd() -> None:
    model, _, _ = _tiny()
    parent = {k: v.clone() for k, v in model.state_dict().items()}
    hyper = TrainHyper(epochs=2, batch_size=8, lr=0.5)
    plain = train_local(model, parent, _data(), hyper, 7).delta
    private = train_local(model, parent, _data(), hyper, 7,
                          dp_sgd=DpSgd(clip_norm=1e9, noise_multiplier=0.0, noise_key=5)).delta
    for name in plain:
        assert torch.allclose(plain[name], private[name], atol=1e-6)


def test_record_epsilon_equals_opacus_rdp_accountant() -> None:
    n_local, batch, epochs, rounds, z, delta = 143, 16, 3, 4, 1.3, 1e-5
    steps = record_steps(n_local, batch, epochs)
    assert steps == 27 and record_sample_rate(n_local, batch) == 16 / 143
    accountant = RDPAccountant()
    for _ in range(rounds * steps):
        accountant.step(noise_multiplier=z, sample_rate=16 / 143)
    expected = accountant.get_epsilon(delta=delta)
    got = record_epsilon(z, n_local=n_local, batch_size=batch, epochs=epochs, rounds=rounds,
                         delta=delta)
    assert got == pytest.approx(expected, rel=1e-12)
    assert record_epsilon(0.0, n_local=10, batch_size=5, epochs=1, rounds=1,
                          delta=delta) == math.inf
    z8 = noise_for_record_epsilon(8.0, n_local=n_local, batch_size=batch, epochs=epochs,
                                  rounds=rounds, delta=delta)
    spent = record_epsilon(z8, n_local=n_local, batch_size=batch, epochs=epochs,
                           rounds=rounds, delta=delta)
    assert 7.98 <= spent <= 8.0


def test_manifest_level_round_trips_and_default_keeps_the_old_bytes() -> None:
    plain = DpSettings(clip_norm=1.0, noise_multiplier=0.5, delta=1e-5)
    manifest = preset_manifest("digits", dp=plain)
    assert b'"level"' not in manifest.to_json_bytes()
    record = preset_manifest("digits", dp=DpSettings(1.0, 0.5, 1e-5, level="record"))
    data = record.to_json_bytes()
    assert b'"level":"record"' in data
    assert TaskManifest.from_json_bytes(data) == record
    explicit = manifest.to_dict()
    explicit["dp"]["level"] = "participant"
    assert TaskManifest.from_dict(explicit).to_json_bytes() == manifest.to_json_bytes()
    bad = record.to_dict()
    bad["dp"]["level"] = "example"
    with pytest.raises(ManifestError) as info:
        TaskManifest.from_dict(bad)
    assert info.value.field == "dp.level"


def test_record_level_update_is_trained_privately_and_reported() -> None:
    manifest = preset_manifest("digits", rounds=1, local_epochs=1, batch_size=32,
                               dp=DpSettings(1.0, 1.1, 1e-5, level="record"))
    client = build_clients(manifest, SimulationSetup(partition="dirichlet", alpha=0.5,
                                                     n_clients=10))[0]
    parent = genesis_model_bytes(manifest)
    with pytest.raises(DpError):
        client_update_bytes(manifest, parent, client, client.client_id, 1)
    secret = b"q" * 32
    key = record_noise_key(secret, task=3, round_index=1)
    update, count = client_update_bytes(manifest, parent, client, client.client_id, 1,
                                        noise_key=key)
    again, _ = client_update_bytes(manifest, parent, client, client.client_id, 1, noise_key=key)
    assert update == again
    payload, report = private_payload(manifest, update, count, task=3, round_index=1,
                                      own="0x" + "11" * 20, secret=secret, rounds_before=2)
    assert report is not None and report.rounds == 3
    assert report.epsilon == record_epsilon(1.1, n_local=count, batch_size=32, epochs=1,
                                            rounds=3, delta=1e-5)
    assert report.metadata()["fedledger.dp.epsilon"] == repr(report.epsilon)
    # not noised a second time: the uploaded tensors are the trained ones
    from node.runtime.private_update import flat_delta

    assert np.array_equal(flat_delta(manifest, payload), flat_delta(manifest, update))
