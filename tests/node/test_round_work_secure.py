"""compute_round on a secure task, and the participant's private payloads (pure, no chain).

Three fixed accounts train on three shoppers shops; one more member of the mask set never
submits, so every round needs the survivors' seed reveals. Updates and reveals live in a
dict keyed by CID, as the store would hold them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from eth_account import Account

from ledger.manifest import DpSettings
from ledger.unixfs import cid_of, cid_str
from node.aggregation.round import aggregate_round
from node.codec.safetensors import decode_tensors, expected_layout
from node.learning.task import client_update_bytes, genesis_model_bytes, model_of, model_weights
from node.privacy.dp import epsilon_spent
from node.privacy.keys import agreement_private_key
from node.privacy.secagg import decode_masked
from node.requester.presets import preset_manifest
from node.runtime.committee import SecureInputsError, compute_round
from node.runtime.private_update import PrivateUpdateError, dp_secret, flat_delta, private_payload
from node.sim.setup import SimulationSetup, build_clients
from tests.node.secure_round_kit import (
    ACCOUNTS,
    ADDRS,
    PARAMS,
    PUBS,
    ROUND,
    TASK,
    fetch_from,
    masked_round,
)

SECURE = preset_manifest("shoppers", rounds=2, privacy="secure")
OPEN = preset_manifest("shoppers", rounds=2)


@pytest.fixture(scope="module")
def clients():
    return build_clients(SECURE, SimulationSetup(partition="natural", column="Region"))[:3]


@pytest.fixture(scope="module")
def plain(clients):
    parent = genesis_model_bytes(SECURE)
    return parent, [client_update_bytes(SECURE, parent, c, c.client_id, ROUND) for c in clients]


def _secure_round(manifest, plain, *, reveal_keys=None):
    """Masked files of members 0..2 (member 3 dropped), their reveals, the store dict."""
    parent, updates = plain
    return (parent, *masked_round(manifest, updates, reveal_keys=reveal_keys))


_fetch = fetch_from


def test_secure_round_equals_open_round_within_the_ring_resolution(plain):
    parent, events, store, inputs = _secure_round(SECURE, plain)
    outcome = compute_round(SECURE, PARAMS, ROUND, parent, events, _fetch(store), secure=inputs)
    assert outcome.dropped == (ADDRS[3],) and outcome.culprits == () and outcome.excluded == ()
    assert [n for _, n in plain[1]] == [3824, 909, 1922]
    assert [who.lower() for who, _ in outcome.rewards] == ADDRS[:3]
    assert [a for _, a in outcome.rewards] == [861908339594290008, 204883546205860255,
                                               433208114199849737]  # by samples, sum = budget
    open_result = aggregate_round(parent, list(plain[1]), content_key=cid_str, layout=expected_layout(model_of(OPEN)),
                                  rule="fedavg", max_samples=OPEN.max_samples, round_index=ROUND)
    secure_w = model_weights(SECURE, outcome.model_bytes)
    open_w = model_weights(OPEN, open_result.model_bytes)
    worst = max(float((secure_w[k].double() - open_w[k].double()).abs().max()) for k in open_w)
    # The ring's error (N * 2^-(k+1) ~ 1e-15 here) is far below float32 rounding, so the
    # decoded weights are not just within the resolution but equal for these updates.
    assert worst == 0.0
    assert outcome.model == cid_of(open_result.model_bytes)  # same bytes: same CID
    # Deterministic: the same chain data gives the same CID (what the quorum agrees on).
    again = compute_round(SECURE, PARAMS, ROUND, parent, events, _fetch(store), secure=inputs)
    assert again.model == outcome.model and again.rewards_root == outcome.rewards_root


def test_a_wrong_reveal_is_named_and_the_parent_is_kept(plain):
    liar_key = agreement_private_key(Account.from_key(b"\x77" * 32))
    parent, events, store, inputs = _secure_round(SECURE, plain, reveal_keys={1: liar_key})
    outcome = compute_round(SECURE, PARAMS, ROUND, parent, events, _fetch(store), secure=inputs)
    assert [(who, dropped) for who, dropped, _ in outcome.culprits] == [(ADDRS[1], ADDRS[3])]
    assert outcome.rewards == () and outcome.rewards_root == bytes(32)
    assert len(outcome.excluded) == 3
    assert all("bad seed reveals" in why for _, why in outcome.excluded)
    kept = model_weights(SECURE, outcome.model_bytes)
    for name, value in model_weights(SECURE, parent).items():
        assert np.array_equal(kept[name].numpy(), value.numpy())


def test_a_missing_reveal_file_names_its_revealer(plain):
    parent, events, store, inputs = _secure_round(SECURE, plain)
    del store[inputs.reveals[2][1]]  # registered on chain, never published
    outcome = compute_round(SECURE, PARAMS, ROUND, parent, events, _fetch(store), secure=inputs)
    assert {who for who, _, _ in outcome.culprits} == {ADDRS[2]}


def test_secure_round_without_inputs_is_refused(plain):
    parent, events, store, _ = _secure_round(SECURE, plain)
    with pytest.raises(SecureInputsError):
        compute_round(SECURE, PARAMS, ROUND, parent, events, _fetch(store))


def test_open_payload_without_dp_is_the_plain_file(plain):
    data, n = plain[1][0]
    assert private_payload(OPEN, data, n, task=TASK, round_index=ROUND, own=ADDRS[0],
                           secret=dp_secret(bytes(ACCOUNTS[0].key)), rounds_before=0) == (data, None)


def test_open_dp_payload_is_noised_keyed_by_the_account_and_reports_epsilon(plain):
    dp = DpSettings(clip_norm=0.5, noise_multiplier=1.1, delta=1e-5)
    manifest = dataclasses.replace(OPEN, dp=dp)
    data, n = plain[1][0]

    def payload(account_index, rounds_before=2):
        return private_payload(manifest, data, n, task=TASK, round_index=3, own=ADDRS[0],
                               secret=dp_secret(bytes(ACCOUNTS[account_index].key)),
                               rounds_before=rounds_before)

    noised, report = payload(0)
    assert payload(0)[0] == noised  # reproducible by its owner
    assert payload(1)[0] != noised  # keyed by the account secret, not the public task seed
    assert report.rounds == 3 and report.epsilon == epsilon_spent(1.1, 3, 1e-5)
    decoded = decode_tensors(noised)
    assert decoded.metadata["fedledger.dp.epsilon"] == repr(report.epsilon)
    assert decoded.metadata["fedledger.dp.rounds"] == "3"
    moved = flat_delta(manifest, noised) - flat_delta(manifest, data)
    assert 0.5 < float(np.std(moved)) / 0.55 < 1.5  # noise std z*C = 0.55


def test_secure_dp_payload_carries_the_dp_metadata(plain):
    manifest = dataclasses.replace(SECURE, dp=DpSettings(clip_norm=1.0, noise_multiplier=0.8,
                                                         delta=1e-5))
    data, n = plain[1][0]
    masked, report = private_payload(
        manifest, data, n, task=TASK, round_index=ROUND, own=ADDRS[0],
        secret=dp_secret(bytes(ACCOUNTS[0].key)), rounds_before=0,
        agreement_key=agreement_private_key(ACCOUNTS[0]),
        peers={a: PUBS[a] for a in ADDRS[1:]})
    update = decode_masked(masked, size=flat_delta(manifest, data).size)
    assert update.metadata["fedledger.dp.epsilon"] == repr(report.epsilon)
    assert update.member == ADDRS[0] and set(update.commitments) == set(ADDRS[1:])
    with pytest.raises(PrivateUpdateError):
        private_payload(manifest, data, n, task=TASK, round_index=ROUND, own=ADDRS[0],
                        secret=b"s" * 32, rounds_before=0)
