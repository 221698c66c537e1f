"""Local training: exact, repeatable bits (also across processes), FedProx, metrics."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
import torch

from ledger.manifest import Personalization
from node.codec.safetensors import encode_tensors
from node.data.datasets import TensorData, builtin_dataset, client_data_from_table
from node.data.partition import natural_partition
from node.data.schemas import SHOPPERS_SCHEMA
from node.learning.models import build_model
from node.learning.personalize import personalize
from node.learning.train import TrainError, TrainHyper, evaluate, train_local
from node.requester.presets import preset_manifest
from node.seeds import derive_seed
from tests.pins import ADAM_LOSS, EVAL_LOSS, TRAIN_DIGEST, TRAIN_LOSS

# One shop (region 5: 318 sessions), logistic regression, 2 epochs of SGD.
SCRIPT = """
import hashlib
from node.codec.safetensors import encode_tensors
from node.data.datasets import builtin_dataset, client_data_from_table
from node.data.schemas import SHOPPERS_SCHEMA
from node.learning.models import build_model
from node.data.partition import natural_partition
from node.seeds import derive_seed
from node.learning.train import TrainHyper, train_local
table, _ = builtin_dataset("shoppers")
rows = natural_partition(table.column("Region"), prefix="region-")["region-5"]
data = client_data_from_table("region-5", table.take(rows), SHOPPERS_SCHEMA,
                              test_fraction=0.2, task_seed=7)
model = build_model("logreg", {"n_features": 67, "n_classes": 2}, seed=7)
result = train_local(model, model.state_dict(), data.train, TrainHyper(2, 16, "sgd", 0.1),
                     seed=derive_seed(7, "train", 1, "region-5"))
print(hashlib.sha256(encode_tensors(result.delta)).hexdigest(), repr(result.metrics["train_loss"]))
"""
EXPECTED_DIGEST = TRAIN_DIGEST
EXPECTED_LOSS = TRAIN_LOSS


@pytest.fixture(scope="module")
def shop5():
    table, _ = builtin_dataset("shoppers")
    rows = natural_partition(table.column("Region"), prefix="region-")["region-5"]
    return client_data_from_table("region-5", table.take(rows), SHOPPERS_SCHEMA,
                                  test_fraction=0.2, task_seed=7)


def _train(data, hyper=None, seed=None):
    model = build_model("logreg", {"n_features": 67, "n_classes": 2}, seed=7)
    parent = {k: v.clone() for k, v in model.state_dict().items()}
    result = train_local(model, parent, data.train, hyper or TrainHyper(2, 16, "sgd", 0.1),
                         seed=derive_seed(7, "train", 1, "region-5") if seed is None else seed)
    return model, parent, result


def test_training_run_is_pinned(shop5):
    _, _, result = _train(shop5)
    assert result.num_samples == 254
    assert result.metrics["train_loss"] == EXPECTED_LOSS
    assert hashlib.sha256(encode_tensors(result.delta)).hexdigest() == EXPECTED_DIGEST


def test_delta_is_local_minus_parent(shop5):
    model, parent, result = _train(shop5)
    for name, value in model.state_dict().items():
        assert result.delta[name].dtype == torch.float32
        assert torch.equal(result.delta[name], value - parent[name])


def test_other_seed_other_bytes(shop5):
    _, _, result = _train(shop5, seed=1)
    assert hashlib.sha256(encode_tensors(result.delta)).hexdigest() != EXPECTED_DIGEST


def test_same_bits_in_a_fresh_process_with_other_thread_count():
    """The node process of a participant computes the simulator's bytes."""
    out = subprocess.run([sys.executable, "-c", "import torch; torch.set_num_threads(2)\n" + SCRIPT],
                         capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == [EXPECTED_DIGEST, repr(EXPECTED_LOSS)]


def test_training_restores_thread_count(shop5):
    before = torch.get_num_threads()
    _train(shop5)
    assert torch.get_num_threads() == before


def test_fedprox_keeps_the_update_closer(shop5):
    def norm(result):
        return float(sum((d.double() ** 2).sum() for d in result.delta.values()))

    plain = norm(_train(shop5)[2])
    prox = norm(_train(shop5, TrainHyper(2, 16, "sgd", 0.1, fedprox_mu=5.0))[2])
    assert prox < 0.5 * plain


def test_adam_run_is_pinned(shop5):
    model, _, result = _train(shop5, TrainHyper(3, 32, "adam", 0.01))
    assert result.metrics["train_loss"] == ADAM_LOSS
    assert evaluate(model, shop5.test).accuracy == 0.78125


def test_evaluate_binary_metrics(shop5):
    model, _, _ = _train(shop5)
    metrics = evaluate(model, shop5.test)
    assert (metrics.n, metrics.accuracy) == (64, 0.875)
    assert metrics.auc == 0.9457013574660633
    assert metrics.loss == EVAL_LOSS


def test_evaluate_multiclass_has_no_auc():
    model = build_model("logreg", {"n_features": 2, "n_classes": 3}, seed=0)
    data = TensorData(torch.zeros(4, 2), torch.tensor([0, 1, 2, 2]))
    metrics = evaluate(model, data)
    assert metrics.auc is None and metrics.n == 4


def _global_state(shop5):
    model, _, _ = _train(shop5)
    return model, {k: v.clone() for k, v in model.state_dict().items()}


def test_personalization_finetune_reports_both_on_the_same_rows(shop5):
    model, global_state = _global_state(shop5)
    manifest = preset_manifest("shoppers", seed=7)
    result = personalize(manifest, global_state, shop5, seed=3)
    assert result.global_metrics == evaluate(model, shop5.test)
    assert result.personal_metrics.n == result.global_metrics.n == 64
    assert set(result.state) == {"weight", "bias"}
    assert not torch.equal(result.state["weight"], global_state["weight"])
    # The same seed gives the same personal bits (a node can rebuild it).
    again = personalize(manifest, global_state, shop5, seed=3)
    assert all(torch.equal(again.state[k], result.state[k]) for k in result.state)


def test_personalization_none_keeps_the_global_model(shop5):
    _, global_state = _global_state(shop5)
    result = personalize(preset_manifest("shoppers", seed=7), global_state, shop5,
                         Personalization(mode="none"), seed=3)
    assert all(torch.equal(result.state[k], global_state[k]) for k in global_state)
    assert result.personal_metrics == result.global_metrics


def test_personalization_mix_interpolates_the_finetuned_weights(shop5):
    _, global_state = _global_state(shop5)
    manifest = preset_manifest("shoppers", seed=7)
    tuned = personalize(manifest, global_state, shop5, Personalization(mode="finetune"), seed=3)
    mixed = personalize(manifest, global_state, shop5, Personalization(mode="mix", mix=0.25),
                        seed=3)
    for k, v in global_state.items():
        assert torch.allclose(mixed.state[k], 0.25 * tuned.state[k] + 0.75 * v)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"epochs": 0, "batch_size": 1},
        {"epochs": 1, "batch_size": 0},
        {"epochs": 1, "batch_size": 1, "lr": 0.0},
        {"epochs": 1, "batch_size": 1, "optimizer": "rmsprop"},
        {"epochs": 1, "batch_size": 1, "fedprox_mu": -1.0},
    ],
)
def test_bad_hyper_parameters(kwargs):
    with pytest.raises(TrainError):
        TrainHyper(**kwargs)


def test_bad_parent_state_and_divergence(shop5):
    model = build_model("logreg", {"n_features": 67, "n_classes": 2}, seed=7)
    with pytest.raises(TrainError, match="do not match"):
        train_local(model, {"weight": torch.zeros(1, 67)}, shop5.train,
                    TrainHyper(1, 16), seed=0)
    with pytest.raises(TrainError, match="shape"):
        train_local(model, {"weight": torch.zeros(1, 66), "bias": torch.zeros(1)},
                    shop5.train, TrainHyper(1, 16), seed=0)
    huge = TensorData(shop5.train.x * 1e30, shop5.train.y)
    with pytest.raises(TrainError, match="non-finite"):
        train_local(model, model.state_dict(), huge, TrainHyper(3, 16, "sgd", 1e10), seed=0)
