"""Secure-mode manifests: only sum-based rules and sample-count rewards."""

from __future__ import annotations

import pytest

from ledger.manifest import ManifestError
from tests.ledger.test_manifest import _manifest


@pytest.mark.parametrize("rule", ["fedavg", "fedavgm", "fedadam"])
def test_secure_accepts_fedavg_family_with_sample_rewards(rule):
    manifest = _manifest(privacy="secure", aggregation=rule, reward_rule="samples")
    assert (manifest.privacy, manifest.aggregation) == ("secure", rule)


@pytest.mark.parametrize("rule", ["krum", "median", "multikrum", "norm_clip", "trimmed_mean"])
def test_secure_rejects_rules_that_need_individual_updates(rule):
    with pytest.raises(ManifestError) as info:
        _manifest(privacy="secure", aggregation=rule)
    assert info.value.field == "aggregation"


def test_secure_rejects_leave_one_out_scoring():
    with pytest.raises(ManifestError) as info:
        _manifest(privacy="secure", reward_rule="leave_one_out")
    assert info.value.field == "reward_rule"
    assert "secure mode allows only 'samples'" in str(info.value)
    assert _manifest(privacy="open", reward_rule="leave_one_out").reward_rule == "leave_one_out"
