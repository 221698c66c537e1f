"""Secure aggregation: ring encoding, pair seeds, masked files, dropout recovery, culprits.

Members are six fixed accounts; their key-agreement keys come from node.privacy.keys as a
real node derives them. Deltas are flat float32 vectors in the layout's canonical order.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch
from eth_account import Account

from ledger.manifest import DpSettings
from ledger.unixfs import cid_str
from node.aggregation.fedavg import ClientUpdate, RuleParamsError, fedavg
from node.aggregation.round import aggregate_round
from node.aggregation.secure_round import (
    Submission,
    classify_submissions,
    round_ring_params,
    secure_aggregate_round,
)
from node.codec.flat import flatten, unflatten
from node.codec.safetensors import decode_tensors, encode_tensors
from node.privacy.fixed_point import (
    FixedPointError,
    FixedPointRangeError,
    RingParams,
    decode_sum,
    encode_weighted,
    ring_params,
)
from node.privacy.keys import agreement_private_key, agreement_public_key
from node.privacy.masks import (
    MaskError,
    expand_mask,
    hkdf_sha256,
    mask_sign,
    pair_seed,
    seed_commitment,
)
from node.privacy.secagg import (
    MaskedPayloadError,
    SeedReveal,
    SeedRevealError,
    SeedRevealFormatError,
    decode_masked,
    decode_seed_reveal,
    encode_seed_reveal,
    mask_update,
    reveal_seeds,
    secure_sum,
)

ACCOUNTS = [Account.from_key(bytes([i + 1]) * 32) for i in range(6)]
ADDRS = [a.address.lower() for a in ACCOUNTS]
PUBS = {a.address.lower(): agreement_public_key(a) for a in ACCOUNTS}
TASK, ROUND = 7, 3
LAYOUT = {"fc.bias": ((1,), "F32"), "fc.weight": ((2,), "F32")}
PARAMS = ring_params(max_members=6, max_weight=100, value_bound=16.0)


def _parent() -> bytes:
    return encode_tensors({"fc.weight": torch.tensor([1.0, 1.0]), "fc.bias": torch.tensor([0.0])})


def _masked(i: int, delta: np.ndarray, weight: int, *, members: list[int] | None = None,
            round_index: int = ROUND, params: RingParams = PARAMS, **kw) -> bytes:
    members = list(range(6)) if members is None else members
    peers = {ADDRS[j]: PUBS[ADDRS[j]] for j in members if j != i}
    return mask_update(delta, weight=weight, params=params, task=TASK, round_index=round_index,
                       own=ACCOUNTS[i].address, private_key=agreement_private_key(ACCOUNTS[i]),
                       peers=peers, **kw)


def _reveal(i: int, dropped: list[int], round_index: int = ROUND) -> bytes:
    return reveal_seeds(agreement_private_key(ACCOUNTS[i]), own=ADDRS[i],
                        dropped={ADDRS[d]: PUBS[ADDRS[d]] for d in dropped}, task=TASK,
                        round_index=round_index)


def _deltas(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, 0.3, n).astype(np.float32) for _ in range(6)]


WEIGHTS = [5, 17, 1, 40, 23, 8]


# ---------------------------------------------------------------------- primitives


def test_hkdf_matches_rfc5869_test_case_1() -> None:
    okm = hkdf_sha256(bytes([0x0B]) * 22, salt=bytes(range(13)), info=bytes(range(0xF0, 0xFA)),
                      length=42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                         "34007208d5b887185865")


def test_pair_seed_is_symmetric_and_bound_to_task_round_and_pair() -> None:
    def seed(i: int, j: int, task: int = TASK, round_index: int = ROUND) -> bytes:
        return pair_seed(agreement_private_key(ACCOUNTS[i]), PUBS[ADDRS[j]], task=task,
                         round_index=round_index, own=ADDRS[i], peer=ADDRS[j])

    assert seed(0, 1) == seed(1, 0)
    assert len({seed(0, 1), seed(0, 2), seed(0, 1, task=8), seed(0, 1, round_index=4)}) == 4
    assert mask_sign(ADDRS[0], ADDRS[1]) == -mask_sign(ADDRS[1], ADDRS[0])
    with pytest.raises(MaskError):
        pair_seed(agreement_private_key(ACCOUNTS[0]), b"\x02" + bytes(32), task=1,
                  round_index=1, own=ADDRS[0], peer=ADDRS[1])
    with pytest.raises(MaskError):
        seed(0, 0)


def test_mask_stream_is_pinned_and_prefix_stable() -> None:
    seed = bytes(range(32))
    mask = expand_mask(seed, 3)
    assert mask.dtype == np.uint64
    assert np.array_equal(expand_mask(seed, 5)[:3], mask)
    assert seed_commitment(seed) != seed_commitment(bytes(32))
    with pytest.raises(MaskError):
        expand_mask(b"short", 3)


def test_ring_params_pick_the_largest_safe_scale() -> None:
    # L = (2^63 - 1) // 6 = 1537228672809129301; L / (100 * 16) ~ 9.6e14, 2^49 <= that < 2^50
    assert PARAMS == RingParams(frac_bits=49, max_members=6)
    assert PARAMS.limit == 1537228672809129301
    assert ring_params(max_members=1, max_weight=1, value_bound=1e-30).frac_bits == 60
    with pytest.raises(FixedPointError):
        ring_params(max_members=10, max_weight=2**40, value_bound=2.0**30)
    with pytest.raises(FixedPointError):
        ring_params(max_members=0, max_weight=1, value_bound=1.0)


def test_round_ring_params_follow_the_task() -> None:
    assert round_ring_params(members=6, max_samples=100, dp=None) == PARAMS
    dp = DpSettings(clip_norm=1.0, noise_multiplier=1.5, delta=1e-5)
    # bound 1 * (1 + 15) = 16: the same ring as the default bound
    assert round_ring_params(members=6, max_samples=100, dp=dp) == PARAMS


def test_encode_is_exact_twos_complement_and_rejects_out_of_range() -> None:
    params = RingParams(frac_bits=2, max_members=4)
    encoded = encode_weighted(np.array([0.5, -0.25, 0.0]), 3, params)
    assert encoded.tolist() == [6, 2**64 - 3, 0]
    assert decode_sum(encoded, params).tolist() == [1.5, -0.75, 0.0]
    with pytest.raises(FixedPointRangeError, match="per-update limit"):
        encode_weighted(np.array([2.0**60]), 1, params)  # 2^62 > (2^63 - 1) // 4
    with pytest.raises(FixedPointRangeError, match="NaN"):
        encode_weighted(np.array([np.nan]), 1, params)


# ---------------------------------------------------------------------- secure == open


def test_secure_sum_equals_open_fedavg_exactly_in_the_ring() -> None:
    deltas = _deltas(1000)
    updates = [decode_masked(_masked(i, d, w), size=1000)
               for i, (d, w) in enumerate(zip(deltas, WEIGHTS))]
    total = secure_sum(updates, [], {})
    plain = np.zeros(1000, dtype=np.uint64)
    for d, w in zip(deltas, WEIGHTS):
        plain += encode_weighted(d, w, PARAMS)
    assert np.array_equal(total.ring_sum, plain)  # masks cancel exactly
    assert total.total_weight == sum(WEIGHTS)
    open_mean = fedavg([ClientUpdate(d, w) for d, w in zip(deltas, WEIGHTS)]).delta
    error = np.abs(total.weighted_sum / total.total_weight - open_mean).max()
    assert error <= PARAMS.resolution / total.total_weight + 1e-15
    # ring addition is order free: any order gives the same bits
    assert np.array_equal(secure_sum(updates[::-1], [], {}).weighted_sum, total.weighted_sum)


def test_secure_round_model_matches_open_round_exactly_for_dyadic_deltas() -> None:
    # deltas [0, 1 | 4] (weight 1) and [2, -1 | 0] (weight 3): FedAvg gives [1.5, -0.5 | 1]
    flat_a, flat_b = np.array([4.0, 0.0, 1.0], np.float32), np.array([0.0, 2.0, -1.0], np.float32)
    subs = [Submission(ADDRS[0], _masked(0, flat_a, 1, members=[0, 1]), 1),
            Submission(ADDRS[1], _masked(1, flat_b, 3, members=[0, 1]), 3)]
    result = secure_aggregate_round(_parent(), subs, mask_set=ADDRS[:2], reveals={}, task=TASK,
                                    round_index=ROUND, params=PARAMS, layout=LAYOUT, rule="fedavg")
    tensors = {k: v.tolist() for k, v in decode_tensors(result.model_bytes).tensors.items()}
    assert tensors == {"fc.bias": [1.0], "fc.weight": [2.5, 0.5]}
    assert result.accepted == [0, 1] and result.scores == [1, 3] and result.culprits == ()
    plain = [(encode_tensors(unflatten(flat_a, LAYOUT)), 1),
             (encode_tensors(unflatten(flat_b, LAYOUT)), 3)]
    assert result.model_bytes == aggregate_round(_parent(), plain, content_key=cid_str, layout=LAYOUT, rule="fedavg",
                                                 round_index=ROUND).model_bytes


def test_secure_round_with_fedadam_matches_open_within_resolution_and_is_deterministic() -> None:
    layout = {"w": ((40,), "F32")}
    parent = encode_tensors({"w": torch.linspace(-1, 1, 40)})
    deltas = _deltas(40, seed=3)
    subs = [Submission(ADDRS[i], _masked(i, d, w), w) for i, (d, w) in
            enumerate(zip(deltas, WEIGHTS))]
    kwargs = {"layout": layout, "rule": "fedadam", "rule_params": {"lr": 0.1},
              "round_index": ROUND}
    secure = secure_aggregate_round(parent, subs, mask_set=ADDRS, reveals={}, task=TASK,
                                    params=PARAMS, **kwargs)
    shuffled = secure_aggregate_round(parent, subs[::-1], mask_set=ADDRS[::-1], reveals={},
                                      task=TASK, params=PARAMS, **kwargs)
    assert shuffled.model_bytes == secure.model_bytes
    opened = aggregate_round(parent, [(encode_tensors({"w": d}), w) for d, w in
                                      zip(deltas, WEIGHTS)], content_key=cid_str, **kwargs)
    a = decode_tensors(secure.model_bytes).tensors
    b = decode_tensors(opened.model_bytes).tensors
    assert a.keys() == b.keys()
    for name in a:  # at most one float32 rounding step apart
        gap = np.abs(a[name].numpy() - b[name].numpy())
        assert (gap <= np.spacing(np.abs(b[name].numpy()))).all()


def test_only_sum_rules_in_secure_mode() -> None:
    with pytest.raises(RuleParamsError, match="individual updates"):
        secure_aggregate_round(_parent(), [], mask_set=ADDRS, reveals={}, task=TASK,
                               round_index=ROUND, params=PARAMS, layout=LAYOUT, rule="median")


# ---------------------------------------------------------------------- hiding


def test_a_single_masked_update_is_uncorrelated_with_the_update() -> None:
    n, trials = 500, 120
    delta = _deltas(n, seed=5)[0]
    xs, ys = [], []
    for round_index in range(trials):  # fresh pair seeds every round
        update = decode_masked(_masked(0, delta, 10, round_index=round_index), size=n)
        xs.append(update.vector.view(np.int64).astype(np.float64))
        ys.append(delta.astype(np.float64))
    masked, truth = np.concatenate(xs), np.concatenate(ys)
    corr = np.corrcoef(masked, truth)[0, 1]
    # independent samples: corr ~ N(0, 1/m); 5 sigma for m = 60,000 is 0.0204
    assert abs(corr) < 5 / np.sqrt(masked.size)
    plain = encode_weighted(delta, 10, PARAMS).view(np.int64).astype(np.float64)
    assert np.corrcoef(plain, delta)[0, 1] > 0.999  # the same test catches an unmasked file
    top_bits = (np.concatenate([x.view(np.int64) for x in xs]) < 0).mean()
    assert abs(top_bits - 0.5) < 5 * 0.5 / np.sqrt(masked.size)


# ---------------------------------------------------------------------- dropouts


def _dropout_round(reveal_override: dict[int, bytes] | None = None):
    """Members 4 and 5 (1/3) committed (are members) but never submit; 2's file is garbage
    on purpose in some tests: here all four survivors submit valid files."""
    deltas = _deltas(3, seed=9)
    survivors, dropped = [0, 1, 2, 3], [4, 5]
    subs = [Submission(ADDRS[i], _masked(i, deltas[i], WEIGHTS[i]), WEIGHTS[i]) for i in survivors]
    reveals = {ADDRS[i]: _reveal(i, dropped) for i in survivors}
    for i, data in (reveal_override or {}).items():
        reveals[ADDRS[i]] = data
    if reveal_override is not None:
        reveals = {k: v for k, v in reveals.items() if v}
    result = secure_aggregate_round(_parent(), subs, mask_set=ADDRS, reveals=reveals, task=TASK,
                                    round_index=ROUND, params=PARAMS, layout=LAYOUT, rule="fedavg")
    return result, deltas, survivors


def test_a_third_dropping_after_committing_still_gives_the_right_aggregate() -> None:
    result, deltas, survivors = _dropout_round()
    assert result.dropped == tuple(sorted([ADDRS[4], ADDRS[5]])) and result.culprits == ()
    assert result.accepted == [0, 1, 2, 3]
    plain = [(encode_tensors(unflatten(deltas[i], LAYOUT)), WEIGHTS[i]) for i in survivors]
    opened = aggregate_round(_parent(), plain, content_key=cid_str, layout=LAYOUT, rule="fedavg", round_index=ROUND)
    a = flatten(decode_tensors(result.model_bytes).tensors, LAYOUT)
    b = flatten(decode_tensors(opened.model_bytes).tensors, LAYOUT)
    assert (np.abs(a - b) <= np.spacing(np.abs(b))).all()


def test_a_wrong_revealed_seed_is_detected_and_its_revealer_named() -> None:
    good = decode_seed_reveal(_reveal(2, [4, 5]))
    forged = SeedReveal(task=TASK, round=ROUND, revealer=ADDRS[2],
                        seeds={**good.seeds, ADDRS[5]: bytes(32)})
    result, _, _ = _dropout_round({2: encode_seed_reveal(forged)})
    assert result.culprits == ((ADDRS[2], ADDRS[5], "revealed seed does not match commitment"),)
    assert result.accepted == [] and result.scores == [0, 0, 0, 0]
    assert all("round unrecoverable" in reason for _, reason in result.rejected)
    weights = {k: v.tolist() for k, v in decode_tensors(result.model_bytes).tensors.items()}
    assert weights == {"fc.bias": [0.0], "fc.weight": [1.0, 1.0]}  # the parent's


def test_missing_and_malformed_reveals_are_named() -> None:
    result, _, _ = _dropout_round({1: b"", 3: b"{not json"})
    names = sorted({(who, reason.split(":")[0]) for who, _, reason in result.culprits})
    assert names == sorted([(ADDRS[1], "no seed revealed"), (ADDRS[3], "malformed reveal")])
    assert len(result.culprits) == 4  # each bad revealer x each dropped member


def test_secure_sum_names_every_survivor_without_reveals() -> None:
    deltas = _deltas(3)
    updates = [decode_masked(_masked(i, deltas[i], 1), size=3) for i in range(4)]
    with pytest.raises(SeedRevealError) as err:
        secure_sum(updates, [ADDRS[4], ADDRS[5]], {})
    assert len(err.value.culprits) == 8


def test_invalid_files_count_as_dropped_and_survivors_recover_their_masks() -> None:
    deltas = _deltas(3, seed=2)
    subs = [Submission(ADDRS[i], _masked(i, deltas[i], WEIGHTS[i]), WEIGHTS[i]) for i in range(5)]
    subs[1] = Submission(ADDRS[1], b"\x00garbage", 17)
    subs[3] = Submission(ADDRS[3], subs[3].data, 999)  # weight on chain differs from the file's
    classified = classify_submissions(subs, mask_set=ADDRS, task=TASK, round_index=ROUND,
                                      params=PARAMS, size=3, max_samples=None)
    assert classified.dropped == tuple(sorted([ADDRS[1], ADDRS[3], ADDRS[5]]))
    assert sorted(classified.invalid) == [1, 3]
    dropped = [1, 3, 5]
    reveals = {ADDRS[i]: _reveal(i, dropped) for i in (0, 2, 4)}
    result = secure_aggregate_round(_parent(), subs, mask_set=ADDRS, reveals=reveals, task=TASK,
                                    round_index=ROUND, params=PARAMS, layout=LAYOUT, rule="fedavg")
    assert result.accepted == [0, 2, 4] and result.culprits == ()
    expected = fedavg([ClientUpdate(deltas[i], WEIGHTS[i]) for i in (0, 2, 4)]).delta
    got = flatten(decode_tensors(result.model_bytes).tensors, LAYOUT) - np.array([0.0, 1.0, 1.0])
    assert np.abs(got - expected).max() < 1e-6


# ---------------------------------------------------------------------- file formats


def test_masked_file_round_trips_and_rejects_tampering() -> None:
    delta = np.array([0.5, -1.0, 2.0], np.float32)
    data = _masked(0, delta, 4, extra_metadata={"fedledger.dp.epsilon": "8.0"})
    update = decode_masked(data, size=3)
    assert (update.member, update.task, update.round, update.weight) == (ADDRS[0], TASK, ROUND, 4)
    assert update.params == PARAMS and set(update.commitments) == set(ADDRS[1:])
    assert update.metadata["fedledger.dp.epsilon"] == "8.0"
    with pytest.raises(MaskedPayloadError):
        decode_masked(data, size=4)
    with pytest.raises(MaskedPayloadError):
        decode_masked(data[:-1], size=3)
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    header["__metadata__"]["fedledger.secagg.weight"] = "04"  # not canonical
    body = json.dumps(header, separators=(",", ":")).encode()
    body += b" " * (-len(body) % 8)
    with pytest.raises(MaskedPayloadError):
        decode_masked(struct.pack("<Q", len(body)) + body + data[8 + length:], size=3)
    with pytest.raises(MaskedPayloadError, match="prefix"):
        _masked(0, delta, 4, extra_metadata={"fedledger.secagg.x": "1"})


def test_seed_reveal_round_trips_and_must_be_canonical() -> None:
    data = _reveal(0, [4, 5])
    reveal = decode_seed_reveal(data)
    assert reveal.revealer == ADDRS[0] and sorted(reveal.seeds) == sorted([ADDRS[4], ADDRS[5]])
    assert encode_seed_reveal(reveal) == data
    with pytest.raises(SeedRevealFormatError):
        decode_seed_reveal(data.replace(b",", b", ", 1))
