"""node.aggregation.round: bytes in, canonical bytes out; bad updates excluded with reasons.

Update payloads are DELTAS (local weights minus parent weights). The parent model has
``fc.weight = [1, 1]`` and ``fc.bias = [0]``; deltas below are written as
``[weight0, weight1 | bias]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from ledger.unixfs import cid_of, cid_str
from node.aggregation.round import aggregate_round
from node.codec.safetensors import CodecError, LayoutMismatchError, decode_tensors, encode_tensors

LAYOUT = {"fc.bias": ((1,), "F32"), "fc.weight": ((2,), "F32")}


def _file(weight: list[float], bias: list[float], metadata: dict | None = None) -> bytes:
    return encode_tensors({"fc.weight": torch.tensor(weight), "fc.bias": torch.tensor(bias)},
                          metadata)


def _weights(data: bytes) -> dict[str, list[float]]:
    return {k: v.tolist() for k, v in decode_tensors(data).tensors.items()}


PARENT = _file([1.0, 1.0], [0.0])
A = (_file([0.0, 1.0], [4.0]), 1)
B = (_file([2.0, -1.0], [0.0]), 3)
C = (_file([1.0, 0.5], [1.0]), 1)
D = (_file([5.0, 5.0], [5.0]), 1)


def test_fedavg_round_exact_and_metadata() -> None:
    result = aggregate_round(PARENT, [A, B], content_key=cid_str, layout=LAYOUT, rule="fedavg", round_index=4)
    # delta = (1*[0,1|4] + 3*[2,-1|0]) / 4 = [1.5, -0.5 | 1]
    assert _weights(result.model_bytes) == {"fc.bias": [1.0], "fc.weight": [2.5, 0.5]}
    assert result.accepted == [0, 1] and result.rejected == [] and result.scores == [1, 3]
    assert decode_tensors(result.model_bytes).metadata == {
        "fedledger.round": "4", "fedledger.rule": "fedavg", "fedledger.rule_params": "{}"}


def test_bad_updates_are_excluded_with_their_reason() -> None:
    nan = (_file([float("nan"), 0.0], [0.0]), 5)
    wrong_shape = (encode_tensors({"fc.weight": torch.zeros(3), "fc.bias": torch.zeros(1)}), 5)
    updates = [A, (b"\x00garbage", 5), nan, B, wrong_shape, (A[0], 9), (_file([9.0, 9.0], [9.0]), 0)]
    result = aggregate_round(PARENT, updates, content_key=cid_str, layout=LAYOUT, rule="fedavg")
    assert result.accepted == [0, 3]
    reasons = dict(result.rejected)
    assert sorted(reasons) == [1, 2, 4, 5, 6]
    assert reasons[1].startswith("NotSafetensorsError")
    assert reasons[2].startswith("NonFiniteValueError")
    assert reasons[4].startswith("LayoutMismatchError")
    assert reasons[5] == "duplicate of update 0"
    assert reasons[6].startswith("AggregationError: numSamples must be a positive int")
    assert result.scores == [1, 0, 0, 3, 0, 0, 0]
    clean = aggregate_round(PARENT, [A, B], content_key=cid_str, layout=LAYOUT, rule="fedavg")
    assert result.model_bytes == clean.model_bytes


def test_an_update_that_overflows_float32_is_excluded() -> None:
    parent = _file([3e38, 1.0], [0.0])
    result = aggregate_round(parent, [(_file([3e38, 0.0], [0.0]), 1), A], content_key=cid_str, layout=LAYOUT,
                             rule="fedavg")
    assert result.rejected == [(0, "AggregationError: applying this update overflows float32")]
    assert result.accepted == [1]
    # large but cancelling: parent + delta stays finite, so it is accepted
    result = aggregate_round(parent, [(_file([-3e38, 0.0], [0.0]), 1)], content_key=cid_str, layout=LAYOUT,
                             rule="fedavg")
    assert result.accepted == [0]
    assert _weights(result.model_bytes)["fc.weight"] == [0.0, 1.0]


def test_result_is_independent_of_submission_order() -> None:
    updates = [A, B, C]
    forward = aggregate_round(PARENT, updates, content_key=cid_str, layout=LAYOUT, rule="fedavg", max_samples=2)
    backward = aggregate_round(PARENT, updates[::-1], content_key=cid_str, layout=LAYOUT, rule="fedavg",
                               max_samples=2)
    assert forward.model_bytes == backward.model_bytes
    assert forward.order == sorted(range(3), key=lambda i: str(cid_of(updates[i][0])))
    assert forward.scores == [1, 2, 1] and backward.scores == [1, 2, 1]


@pytest.mark.parametrize(("rule", "params", "weight", "bias"), [
    # medians of w0 {0,2,1,5}, w1 {1,-1,.5,5}, b {4,0,1,5}: 1.5, 0.75, 2.5
    ("median", {}, [2.5, 1.75], [2.5]),
    ("trimmed_mean", {"trim_fraction": 0.25}, [2.5, 1.75], [2.5]),
    # no trimming: unweighted mean [2, 1.375 | 2.5]
    ("trimmed_mean", {"trim_fraction": 0.0}, [3.0, 2.375], [2.5]),
    # squared distances AB 24, AC 10.25, AD 42, BC 4.25, BD 70, CD 52.25; two neighbours:
    # scores A 34.25, B 28.25, C 14.5, D 94.25 -> C
    ("krum", {"byzantine": 0}, [2.0, 1.5], [1.0]),
    # C and B, weighted 1 and 3: [1.75, -0.625 | 0.25]
    ("multikrum", {"byzantine": 0, "select": 2}, [2.75, 0.375], [0.25]),
])
def test_every_rule_through_bytes(rule, params, weight, bias) -> None:
    updates = [A, B, C, D]
    result = aggregate_round(PARENT, updates, content_key=cid_str, layout=LAYOUT, rule=rule, rule_params=params)
    assert _weights(result.model_bytes) == {"fc.bias": bias, "fc.weight": weight}
    again = aggregate_round(PARENT, updates, content_key=cid_str, layout=LAYOUT, rule=rule, rule_params=params)
    assert again.model_bytes == result.model_bytes


def test_norm_clip_through_bytes() -> None:
    updates = [(_file([0.0, 0.5], [0.0]), 1), (_file([0.75, 0.0], [0.0]), 1),
               (_file([2.0, 0.0], [0.0]), 1)]
    result = aggregate_round(PARENT, updates, content_key=cid_str, layout=LAYOUT, rule="norm_clip",
                             rule_params={"max_norm": 1.0})
    # [2, 0] is clipped to [1, 0]; mean [1.75 / 3, 0.5 / 3]
    assert _weights(result.model_bytes) == {
        "fc.bias": [0.0],
        "fc.weight": [float(np.float32(1 + 1.75 / 3)), float(np.float32(1 + 0.5 / 3))]}


def test_krum_records_the_updates_it_left_out() -> None:
    result = aggregate_round(PARENT, [A, B, C, D], content_key=cid_str, layout=LAYOUT, rule="krum",
                             rule_params={"byzantine": 0})
    assert result.accepted == [2]
    assert result.rejected == [(0, "not selected by krum"), (1, "not selected by krum"),
                               (3, "not selected by krum")]
    assert result.scores == [0, 0, 1, 0]


def test_fedavgm_state_travels_in_the_model_file() -> None:
    params = {"lr": 1.0, "momentum": 0.5}
    first = aggregate_round(PARENT, [(_file([1.0, -2.0], [1.0]), 1)], content_key=cid_str, layout=LAYOUT,
                            rule="fedavgm", rule_params=params)
    assert _weights(first.model_bytes) == {
        "fc.bias": [1.0], "fc.weight": [2.0, -1.0],
        "server_opt/momentum/fc.bias": [1.0], "server_opt/momentum/fc.weight": [1.0, -2.0]}
    # delta [1, 0 | 0]: v = 0.5 * [1, -2 | 1] + [1, 0 | 0] = [1.5, -1 | 0.5]
    second = aggregate_round(first.model_bytes, [(_file([1.0, 0.0], [0.0]), 1)],
                             content_key=cid_str, layout=LAYOUT, rule="fedavgm", rule_params=params)
    assert _weights(second.model_bytes) == {
        "fc.bias": [1.5], "fc.weight": [3.5, -2.0],
        "server_opt/momentum/fc.bias": [0.5], "server_opt/momentum/fc.weight": [1.5, -1.0]}


def test_fedadam_round_exact() -> None:
    params = {"lr": 0.5, "beta1": 0.5, "beta2": 0.75, "tau": 1.0}
    result = aggregate_round(PARENT, [(_file([2.0, -2.0], [0.0]), 1)], content_key=cid_str, layout=LAYOUT,
                             rule="fedadam", rule_params=params)
    # m = [1, -1 | 0], v = [1, 1 | 0], step = 0.5 * m / (sqrt(v) + 1) = [0.25, -0.25 | 0]
    assert _weights(result.model_bytes) == {
        "fc.bias": [0.0], "fc.weight": [1.25, 0.75],
        "server_opt/m/fc.bias": [0.0], "server_opt/m/fc.weight": [1.0, -1.0],
        "server_opt/v/fc.bias": [0.0], "server_opt/v/fc.weight": [1.0, 1.0]}


def test_no_valid_update_keeps_the_parent_weights() -> None:
    result = aggregate_round(PARENT, [(b"junk", 1)], content_key=cid_str, layout=LAYOUT, rule="fedavg")
    assert _weights(result.model_bytes) == _weights(PARENT)
    assert result.accepted == [] and result.scores == [0]
    assert result.rejected[0][1].startswith("TruncatedPayloadError")
    empty = aggregate_round(PARENT, [], content_key=cid_str, layout=LAYOUT, rule="median")
    assert _weights(empty.model_bytes) == _weights(PARENT)


def test_bad_parent_is_an_error() -> None:
    with pytest.raises(CodecError):
        aggregate_round(b"junk", [A], content_key=cid_str, layout=LAYOUT, rule="fedavg")
    with pytest.raises(LayoutMismatchError):
        aggregate_round(encode_tensors({"x": torch.zeros(1)}), [A], content_key=cid_str, layout=LAYOUT, rule="fedavg")
    partial_state = encode_tensors({"fc.weight": torch.zeros(2), "fc.bias": torch.zeros(1),
                                    "server_opt/momentum/fc.bias": torch.zeros(1)})
    with pytest.raises(LayoutMismatchError):
        aggregate_round(partial_state, [A], content_key=cid_str, layout=LAYOUT, rule="fedavgm")


def test_leave_one_out_scoring() -> None:
    def closeness_to_target(weights: dict[str, torch.Tensor]) -> float:
        # higher is better: minus the squared distance of fc.weight to [2, 1]
        w = weights["fc.weight"].double()
        return -float(((w - torch.tensor([2.0, 1.0], dtype=torch.float64)) ** 2).sum())

    helpful = (_file([2.0, 0.0], [0.0]), 1)
    harmful = (_file([0.0, 4.0], [0.0]), 1)
    result = aggregate_round(PARENT, [helpful, harmful], content_key=cid_str, layout=LAYOUT, rule="fedavg",
                             scoring="leave_one_out", evaluate=closeness_to_target,
                             loo_scale=100)
    # all: w = [2, 3] -> -4; without helpful: [1, 5] -> -17; without harmful: [3, 1] -> -1
    assert result.scores == [1300, 0]


def test_output_is_canonical_model_file() -> None:
    result = aggregate_round(PARENT, [A, B], content_key=cid_str, layout=LAYOUT, rule="trimmed_mean",
                             rule_params={"trim_fraction": 0.0}, round_index=1)
    meta = decode_tensors(result.model_bytes).metadata
    assert json.loads(meta["fedledger.rule_params"]) == {"trim_fraction": 0.0}
    # unweighted mean of deltas [0, 1 | 4] and [2, -1 | 0] = [1, 0 | 2]
    expected = _file([2.0, 1.0], [2.0], {"fedledger.round": "1", "fedledger.rule": "trimmed_mean",
                                         "fedledger.rule_params": '{"trim_fraction":0.0}'})
    assert result.model_bytes == expected
    assert str(cid_of(result.model_bytes)) == str(cid_of(expected))



_REPLAY_SCRIPT = """
import hashlib, sys
import numpy as np
import torch
torch.set_num_threads(int(sys.argv[1]))
from node.codec.safetensors import encode_tensors
from node.aggregation.round import aggregate_round
from ledger.unixfs import cid_str
rng = np.random.default_rng(11)
layout = {"a": ((300, 7), "F32"), "b": ((13,), "F32")}
def model():
    return encode_tensors({"a": rng.standard_normal((300, 7), dtype=np.float32),
                           "b": rng.standard_normal(13, dtype=np.float32)})
parent = model()
updates = [(model(), int(n)) for n in rng.integers(1, 500, size=9)]
for rule, params in [("fedavg", {}), ("fedadam", {}), ("trimmed_mean", {"trim_fraction": 0.2}),
                     ("krum", {"byzantine": 2})]:
    out = aggregate_round(parent, updates, content_key=cid_str, layout=layout, rule=rule, rule_params=params,
                          max_samples=200)
    print(rule, hashlib.sha256(out.model_bytes).hexdigest())
"""


def test_same_bytes_across_processes_and_thread_counts() -> None:
    outputs = []
    for threads in ("1", "2"):
        env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
        done = subprocess.run([sys.executable, "-c", _REPLAY_SCRIPT, threads],
                              capture_output=True, text=True, check=True, env=env, timeout=120)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == 4
