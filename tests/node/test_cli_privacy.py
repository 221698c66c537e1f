"""``--privacy``/``--dp-*`` options: what DpSettings and manifest overrides they produce."""

from __future__ import annotations

import argparse

import pytest

from ledger.manifest import DpSettings
from node.cli.errors import UsageError
from node.cli.privacy_options import add_privacy_args, dp_settings
from node.privacy.dp import epsilon_spent, noise_for_epsilon
from node.requester.presets import distributed_schedule, preset_manifest


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_privacy_args(parser)
    return parser.parse_args(list(argv))


def test_no_dp_flags_mean_no_dp() -> None:
    assert dp_settings(_parse(), rounds=5) is None
    with pytest.raises(UsageError, match="need --dp-clip"):
        dp_settings(_parse("--dp-noise", "1"), rounds=5)
    with pytest.raises(UsageError, match="needs --dp-noise or --dp-epsilon"):
        dp_settings(_parse("--dp-clip", "1"), rounds=5)


def test_record_level_epsilon_needs_noise_shares() -> None:
    with pytest.raises(UsageError, match="takes --dp-noise"):
        dp_settings(_parse("--dp-clip", "1", "--dp-epsilon", "8", "--dp-level", "record"), 5)
    got = dp_settings(_parse("--privacy", "secure", "--dp-clip", "0.5", "--dp-epsilon", "8",
                             "--dp-level", "record", "--dp-noise-shares", "3"), rounds=20)
    z = noise_for_epsilon(8.0, 20, 1e-5)
    assert got == DpSettings(0.5, z, 1e-5, level="record", noise_shares=3)
    assert 7.98 <= epsilon_spent(z, 20, 1e-5) <= 8.0


def test_distributed_schedule_makes_a_valid_secure_manifest() -> None:
    dp = DpSettings(1.0, 2.0, 1e-5, level="record", noise_shares=3)
    overrides = distributed_schedule(dp, 100_000)
    assert overrides == {"local_epochs": 1, "optimizer": "sgd", "batch_size": 100_000}
    manifest = preset_manifest("digits", privacy="secure", dp=dp, **overrides)
    assert manifest.noise_shares == 3
    assert distributed_schedule(DpSettings(1.0, 2.0, 1e-5, level="record"), 100_000) == {}
    assert distributed_schedule(None, 100_000) == {}
