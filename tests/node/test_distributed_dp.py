"""Distributed DP (``dp.noise_shares``): each participant adds a share of the DP-SGD noise,
a secure sum of at least that many updates carries all of it, and a smaller sum is never
unmasked."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from ledger.manifest import DpSettings, ManifestError, TaskManifest
from ledger.unixfs import cid_of, cid_str
from node.aggregation.round import aggregate_round
from node.codec.flat import layout_size
from node.codec.safetensors import expected_layout
from node.data.datasets import TensorData
from node.learning.dp_sgd import DpSgd, clip_per_example, per_example_grads
from node.learning.task import client_update_bytes, genesis_model_bytes, model_of, model_weights
from node.learning.train import TrainHyper, train_local
from node.privacy.dp import DpError
from node.privacy.secagg import decode_masked
from node.requester.presets import distributed_schedule, preset_manifest
from node.runtime.committee import compute_round
from node.runtime.private_update import dp_secret, flat_delta, record_noise_key
from node.runtime.secure_participant import RecoveryView
from node.sim.setup import SimulationSetup, build_clients
from tests.node.secure_round_kit import (
    ACCOUNTS,
    ADDRS,
    PARAMS,
    ROUND,
    TASK,
    fetch_from,
    masked_round,
)

DP3 = DpSettings(clip_norm=1.0, noise_multiplier=0.8, delta=1e-5, level="record",
                 noise_shares=3)
LR = 0.5


def _shoppers(dp: DpSettings = DP3, **overrides) -> TaskManifest:
    fields = {"rounds": 2, "privacy": "secure", "dp": dp, "lr": LR,
              **distributed_schedule(dp, 100_000), **overrides}
    return preset_manifest("shoppers", **fields)


# ---- manifest ------------------------------------------------------------------------


def test_noise_shares_round_trip_and_the_default_keeps_the_old_bytes() -> None:
    manifest = _shoppers()
    data = manifest.to_json_bytes()
    assert b'"noise_shares":3' in data and b'"batch_size":100000' in data
    assert TaskManifest.from_json_bytes(data) == manifest
    single = dataclasses.replace(DP3, noise_shares=1)
    assert b"noise_shares" not in preset_manifest("shoppers", dp=single).to_json_bytes()
    with pytest.raises(ManifestError) as info:
        DpSettings(1.0, 1.0, 1e-5, level="record", noise_shares=0)
    assert info.value.field == "dp.noise_shares"


@pytest.mark.parametrize(("override", "field"), [
    ({"privacy": "open"}, "privacy"),
    ({"dp": dataclasses.replace(DP3, level="participant")}, "dp.level"),
    ({"local_epochs": 2}, "local_epochs"),
    ({"optimizer": "adam"}, "optimizer"),
    ({"batch_size": 99_999}, "batch_size"),
])
def test_distributed_dp_needs_one_full_batch_sgd_step_in_secure_mode(override, field) -> None:
    base = _shoppers()
    kwargs = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
    with pytest.raises(ManifestError) as info:
        TaskManifest(**{**kwargs, **override})
    assert info.value.field == field


# ---- the participant's step ------------------------------------------------------------


def _data(n: int, seed: int) -> TensorData:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 20, generator=generator)
    return TensorData(x=x, y=(x[:, 0] + x[:, 1] > 0).to(torch.int64))


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))


def _weighted(data: TensorData, *, noise: float, key: int, shares: int) -> torch.Tensor:
    """``n * delta`` of one distributed-DP round, flat."""
    model = _model()
    parent = {k: v.clone() for k, v in model.state_dict().items()}
    result = train_local(model, parent, data, TrainHyper(epochs=1, batch_size=64, lr=LR), 1,
                         dp_sgd=DpSgd(clip_norm=1.0, noise_multiplier=noise, noise_key=key,
                                      noise_shares=shares))
    return len(data) * torch.cat([v.reshape(-1).double() for v in result.delta.values()])


def test_weighted_update_is_minus_lr_times_the_clipped_gradient_sum() -> None:
    data = _data(50, seed=1)
    model = _model()
    grads = clip_per_example(per_example_grads(model, nn.functional.cross_entropy, data.x,
                                               data.y), 1.0)
    expected = -LR * torch.cat([grads[k].sum(0).reshape(-1).double()
                                for k, _ in model.named_parameters()])
    got = _weighted(data, noise=0.0, key=1, shares=3)
    assert torch.allclose(got, expected, atol=2e-5)
    assert not torch.allclose(_weighted(data, noise=0.0, key=1, shares=1), expected, atol=1e-2)


def test_a_sum_of_m_shares_carries_the_full_noise_and_one_share_does_not() -> None:
    z, m = 2.0, 4
    datasets = [_data(30 + 5 * i, seed=10 + i) for i in range(m)]
    noise = sum(_weighted(d, noise=z, key=100 + i, shares=m)
                - _weighted(d, noise=0.0, key=100 + i, shares=m) for i, d in enumerate(datasets))
    # 4,866 coordinates: the sample std is within ~1% of lr * z * C.
    assert float(noise.std()) == pytest.approx(LR * z * 1.0, rel=0.05)
    one = _weighted(datasets[0], noise=z, key=7, shares=m) - _weighted(
        datasets[0], noise=0.0, key=7, shares=m)
    assert float(one.std()) == pytest.approx(LR * z / 2, rel=0.05)


def test_more_than_one_step_per_round_is_refused() -> None:
    model = _model()
    parent = {k: v.clone() for k, v in model.state_dict().items()}
    dp = DpSgd(clip_norm=1.0, noise_multiplier=1.0, noise_key=1, noise_shares=2)
    for hyper in (TrainHyper(epochs=2, batch_size=64, lr=LR),
                  TrainHyper(epochs=1, batch_size=40, lr=LR)):
        with pytest.raises(DpError, match="one full-batch step"):
            train_local(model, parent, _data(50, seed=1), hyper, 1, dp_sgd=dp)
    with pytest.raises(DpError):
        DpSgd(clip_norm=1.0, noise_multiplier=1.0, noise_key=1, noise_shares=0)


# ---- the committee ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shops():
    manifest = _shoppers()
    clients = build_clients(manifest, SimulationSetup(partition="natural", column="Region"))
    parent = genesis_model_bytes(manifest)
    plain = [client_update_bytes(manifest, parent, c, c.client_id, ROUND,
                                 noise_key=record_noise_key(dp_secret(bytes(a.key)), task=TASK,
                                                            round_index=ROUND))
             for c, a in zip(clients[:3], ACCOUNTS)]
    return parent, plain


def _round(manifest: TaskManifest, parent: bytes, plain, *, reveal: bool):
    """Members 0..2 submit, member 3 drops; survivors reveal only when ``reveal``."""
    events, store, inputs = masked_round(manifest, plain, reveal=reveal)
    for event in events:
        size = layout_size(expected_layout(model_of(manifest)))
        meta = decode_masked(store[event.cid], size=size).metadata
        assert meta["fedledger.dp.shares"] == str(manifest.noise_shares)
    return compute_round(manifest, PARAMS, ROUND, parent, events, fetch_from(store),
                         secure=inputs)


def test_a_sum_with_every_noise_share_is_unmasked_and_equals_open_fedavg(shops) -> None:
    parent, plain = shops
    manifest = _shoppers()
    result = _round(manifest, parent, plain, reveal=True)
    assert result.excluded == () and result.culprits == () and result.dropped == (ADDRS[3],)
    assert [who.lower() for who, _ in result.rewards] == ADDRS[:3]
    layout = expected_layout(model_of(manifest))
    opened = aggregate_round(parent, plain, content_key=cid_str, layout=layout, rule="fedavg",
                             max_samples=manifest.max_samples, round_index=ROUND)
    got, want = model_weights(manifest, result.model_bytes), model_weights(
        manifest, opened.model_bytes)
    assert max(float((got[k] - want[k]).abs().max()) for k in want) < 2**-24
    assert np.abs(flat_delta(manifest, plain[0][0])).max() > 0


def test_a_sum_short_of_the_noise_shares_keeps_the_parent(shops) -> None:
    parent, plain = shops
    manifest = _shoppers(dp=dataclasses.replace(DP3, noise_shares=4))
    result = _round(manifest, parent, plain, reveal=False)
    assert result.rewards == () and result.culprits == ()
    reason = "sum not unmasked: 3 valid update(s), distributed DP needs at least 4 noise shares"
    assert result.excluded == tuple((a.address, reason) for a in ACCOUNTS[:3])
    before, after = model_weights(manifest, parent), model_weights(manifest, result.model_bytes)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_survivors_do_not_reveal_for_a_sum_short_of_the_noise_shares() -> None:
    view = RecoveryView(dropped=("0xd",), survivors=("0xa", "0xb"), revealed=(),
                        window_open=True, min_survivors=3)
    assert not view.reveal_allowed and view.complete
    enough = dataclasses.replace(view, min_survivors=2)
    assert enough.reveal_allowed and not enough.complete


def test_distributed_dp_refuses_more_rows_than_max_samples() -> None:
    manifest = _shoppers(max_samples=200, batch_size=200)
    client = build_clients(manifest, SimulationSetup(partition="natural", column="Region"))[0]
    with pytest.raises(DpError, match="at most max_samples"):
        client_update_bytes(manifest, genesis_model_bytes(manifest), client, client.client_id,
                            1, noise_key=5)


def test_a_node_does_not_submit_when_the_task_has_fewer_members_than_noise_shares() -> None:
    from types import SimpleNamespace

    from node.runtime.participant import Participant

    # No market or store: refusing must happen before anything is trained or sent.
    node = Participant(None, None, ACCOUNTS[0], task=TASK, data=None, client_id="x")
    node._view = SimpleNamespace(manifest=_shoppers())
    node._secure = SimpleNamespace(seeds_exposed=lambda round_: False,
                                   mask_set=lambda: tuple(ADDRS[:2]))
    said = node._submit(SimpleNamespace(round=2, parent=cid_of(b"parent")))
    assert said == ("not submitting in round 2: the task has 2 members, its distributed DP "
                    "needs 3 noise shares in a sum")
    assert node._withheld == {2} and node.summary.submitted == []
