"""Task manifests: canonical bytes, round trips, and one typed error per bad field."""

from __future__ import annotations

import dataclasses
import json
import sys

import pytest

from ledger.errors import LedgerError
from ledger.manifest import DpSettings, ManifestError, PhaseDurations, TaskManifest


def _manifest(**overrides) -> TaskManifest:
    fields = {
        "architecture": "logreg",
        "model_params": {"n_features": 67, "n_classes": 2},
        "dataset": "shoppers",
        "rounds": 20,
        "local_epochs": 1,
        "batch_size": 32,
        "optimizer": "sgd",
        "lr": 0.1,
        "aggregation": "fedavg",
        "max_samples": 5000,
        "reward_rule": "samples",
        "privacy": "open",
        "committee_size": 3,
        "quorum": 2,
        "phase_durations": PhaseDurations(train=120, commit=30, reveal=30),
        "stake": 10**16,
        "seed": 7,
    }
    fields.update(overrides)
    return TaskManifest(**fields)


EXPECTED_BYTES = (
    b'{"aggregation":"fedavg","aggregation_params":{},"architecture":"logreg",'
    b'"batch_size":32,"committee_size":3,"data_schema":null,"dataset":"shoppers",'
    b'"dp":null,"fedprox_mu":0.0,"local_epochs":1,"lr":0.1,"max_samples":5000,'
    b'"model_params":{"n_classes":2,"n_features":67},"optimizer":"sgd",'
    b'"phase_durations":{"commit":30,"reveal":30,"train":120},"privacy":"open",'
    b'"quorum":2,"reward_params":{},"reward_rule":"samples","rounds":20,'
    b'"seed":7,"stake":10000000000000000,"test_fraction":0.2,"version":1}'
)


def test_canonical_bytes_are_exact():
    assert _manifest().to_json_bytes() == EXPECTED_BYTES


def test_round_trip_gives_equal_manifest_and_bytes():
    manifest = _manifest(dp=DpSettings(clip_norm=1, noise_multiplier=0.5, delta=1e-5),
                         aggregation="trimmed_mean", aggregation_params={"trim_fraction": 0.2})
    again = TaskManifest.from_json_bytes(manifest.to_json_bytes())
    assert again == manifest
    assert again.to_json_bytes() == manifest.to_json_bytes()
    assert again.dp == DpSettings(clip_norm=1.0, noise_multiplier=0.5, delta=1e-5)


def test_non_canonical_spelling_parses_to_the_canonical_bytes():
    spaced = json.dumps(json.loads(EXPECTED_BYTES), indent=3).encode()
    assert TaskManifest.from_json_bytes(spaced).to_json_bytes() == EXPECTED_BYTES


def test_int_learning_rate_is_written_as_float():
    assert b'"lr":1.0' in _manifest(lr=1).to_json_bytes()


def test_nested_params_are_immutable():
    manifest = _manifest(model_params={"n_features": 4, "n_classes": 3, "hidden": [8, 4]})
    with pytest.raises(TypeError):
        manifest.model_params["n_features"] = 5  # type: ignore[index]
    assert manifest.model_params["hidden"] == (8, 4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        manifest.rounds = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"architecture": "Log Reg"}, "architecture"),
        ({"dataset": "mnist"}, "dataset"),
        ({"dataset": "csv"}, "data_schema"),
        ({"rounds": 0}, "rounds"),
        ({"rounds": True}, "rounds"),
        ({"local_epochs": 1.5}, "local_epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"fedprox_mu": -0.1}, "fedprox_mu"),
        ({"aggregation": "mean"}, "aggregation"),
        ({"privacy": "secure", "aggregation": "median"}, "aggregation"),
        ({"max_samples": 0}, "max_samples"),
        ({"reward_rule": "equal"}, "reward_rule"),
        ({"privacy": "closed"}, "privacy"),
        ({"committee_size": 0}, "committee_size"),
        ({"quorum": 4}, "quorum"),
        ({"committee_size": 4, "quorum": 2}, "quorum"),
        ({"stake": -1}, "stake"),
        ({"seed": 2**63}, "seed"),
        ({"test_fraction": 0.95}, "test_fraction"),
        ({"model_params": {"x": float("inf")}}, "model_params.x"),
        ({"model_params": [1, 2]}, "model_params"),
        ({"version": 2}, "version"),
    ],
)
def test_bad_field_is_named(overrides, field):
    with pytest.raises(ManifestError) as info:
        _manifest(**overrides)
    assert info.value.field == field
    assert isinstance(info.value, LedgerError)


def test_bad_phase_and_dp_fields_are_named():
    with pytest.raises(ManifestError) as info:
        PhaseDurations(train=0, commit=30, reveal=30)
    assert info.value.field == "phase_durations.train"
    with pytest.raises(ManifestError) as info:
        DpSettings(clip_norm=1.0, noise_multiplier=1.0, delta=0.0)
    assert info.value.field == "dp.delta"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("rounds"), "rounds"),
        (lambda d: d.update(colour="blue"), "colour"),
        (lambda d: d["phase_durations"].pop("commit"), "phase_durations.commit"),
        (lambda d: d["phase_durations"].update(vote=3), "phase_durations.vote"),
        (lambda d: d.update(dp={"clip_norm": 1.0}), "dp.delta"),
        (lambda d: d.update(phase_durations=[1, 2, 3]), "phase_durations"),
    ],
)
def test_bad_documents_are_named(mutate, field):
    document = json.loads(EXPECTED_BYTES)
    mutate(document)
    with pytest.raises(ManifestError) as info:
        TaskManifest.from_json_bytes(json.dumps(document).encode())
    assert info.value.field == field


@pytest.mark.parametrize("data", [b"\xff\xfe", b"{", b"[1,2]", b'{"lr": NaN}'])
def test_garbage_is_a_manifest_error(data):
    with pytest.raises(ManifestError):
        TaskManifest.from_json_bytes(data)


def test_ledger_manifest_does_not_import_torch():
    # ledger/ must run on an auditing machine without torch
    import subprocess

    code = "import ledger.manifest, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
