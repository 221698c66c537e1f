"""Model registry: seeded, reproducible init; shapes; typed errors."""

from __future__ import annotations

import hashlib

import pytest
import torch

from node.codec.safetensors import encode_tensors
from node.learning.models import ModelError, build_model


def _digest(module: torch.nn.Module) -> str:
    return hashlib.sha256(encode_tensors(module.state_dict())).hexdigest()


@pytest.mark.parametrize(
    ("name", "params", "n_out", "n_params"),
    [
        ("logreg", {"n_features": 67, "n_classes": 2}, 1, 68),
        ("logreg", {"n_features": 64, "n_classes": 10}, 10, 650),
        ("mlp", {"n_features": 67, "n_classes": 2, "hidden": [16, 8]}, 1, 1233),
        ("cnn8x8", {"n_classes": 10, "channels": 4}, 10, 40 + 296 + 330),
    ],
)
def test_shapes(name, params, n_out, n_params):
    model = build_model(name, params, seed=1)
    assert model(torch.zeros(5, params.get("n_features", 64))).shape == (5, n_out)
    assert sum(p.numel() for p in model.parameters()) == n_params
    assert all(v.dtype == torch.float32 for v in model.state_dict().values())


def test_same_seed_same_bytes_other_seed_other_bytes():
    params = {"n_classes": 10}
    assert _digest(build_model("cnn8x8", params, seed=5)) == _digest(
        build_model("cnn8x8", params, seed=5))
    assert _digest(build_model("cnn8x8", params, seed=5)) != _digest(
        build_model("cnn8x8", params, seed=6))


def test_genesis_bytes_are_pinned():
    model = build_model("logreg", {"n_features": 3, "n_classes": 2}, seed=0)
    assert model.weight.tolist() == [[-0.004322517663240433, 0.3097158372402191,
                                      -0.4751853346824646]]
    assert model.bias.tolist() == [-0.4248946011066437]
    assert _digest(model) == "1e478e0e389defaaea26f1e90c486bcc5ce52df4dda28d1f5c9e1d05abd0c973"


def test_build_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_model("mlp", {"n_features": 4, "n_classes": 3}, seed=9)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("resnet", {}, "unknown architecture 'resnet'; registered: \\['cnn8x8', 'logreg', 'mlp'\\]"),
        ("logreg", {"n_features": 0, "n_classes": 2}, "n_features"),
        ("logreg", {"n_features": 3, "n_classes": 1}, "n_classes"),
        ("mlp", {"n_features": 3, "n_classes": 2, "hidden": []}, "hidden"),
        ("mlp", {"n_features": 3, "n_classes": 2, "hidden": [4, True]}, "hidden"),
        ("cnn8x8", {"n_features": 63, "n_classes": 10}, "n_features == 64"),
    ],
)
def test_bad_models_raise_model_error(name, params, message):
    with pytest.raises(ModelError, match=message):
        build_model(name, params, seed=0)
