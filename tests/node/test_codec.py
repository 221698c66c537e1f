"""node.codec.safetensors: canonical bytes, cross-process identity, one test per rejection class."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from node.codec.safetensors import (
    CodecError,
    EncodeError,
    InvalidOffsetsError,
    LayoutMismatchError,
    NonFiniteValueError,
    NotSafetensorsError,
    PayloadTooLargeError,
    TruncatedPayloadError,
    decode_tensors,
    encode_tensors,
    expected_layout,
    max_payload_bytes,
)
from node.errors import NodeError


def _raw(header: dict, data: bytes, pad: bool = True) -> bytes:
    """A hand-made safetensors payload (header written as given)."""
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def _sample() -> dict[str, torch.Tensor]:
    return {
        "fc.weight": torch.tensor([[1.0, -2.0], [0.5, 3.25]]),
        "fc.bias": torch.tensor([0.0, -1.5]),
    }


def test_exact_bytes_of_a_tiny_tensor() -> None:
    data = encode_tensors({"a": torch.tensor([1.0, -2.0])})
    header = b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    header += b" " * (-len(header) % 8)
    expected = struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1.0, -2.0)
    assert len(header) == 56
    assert data == expected


def test_names_and_metadata_are_sorted_regardless_of_insertion_order() -> None:
    tensors = _sample()
    reversed_tensors = dict(reversed(list(tensors.items())))
    a = encode_tensors(tensors, {"round": "3", "rule": "fedavg"})
    b = encode_tensors(reversed_tensors, {"rule": "fedavg", "round": "3"})
    assert a == b
    (n,) = struct.unpack("<Q", a[:8])
    assert n % 8 == 0
    header = json.loads(a[8:8 + n])
    assert list(header) == ["__metadata__", "fc.bias", "fc.weight"]
    assert list(header["__metadata__"]) == ["round", "rule"]
    assert header["fc.bias"]["data_offsets"] == [0, 8]
    assert header["fc.weight"]["data_offsets"] == [8, 24]


def test_matches_the_safetensors_library_and_loads_with_it() -> None:
    tensors = _sample()
    data = encode_tensors(tensors, {"k": "v"})
    assert data == st_save(tensors, metadata={"k": "v"})
    loaded = st_load(data)
    assert sorted(loaded) == ["fc.bias", "fc.weight"]
    assert torch.equal(loaded["fc.weight"], tensors["fc.weight"])


def test_known_digest_vector() -> None:
    data = encode_tensors(_sample(), {"rule": "fedavg"})
    assert len(data) == 192
    assert hashlib.sha256(data).hexdigest() == (
        "fe51661e9c34e9070d095d18f13d7d4b931f479a1ed8c0f2dd7efab9c642f9ce"
    )


_SUBPROCESS_SCRIPT = """
import sys, torch
from node.codec.safetensors import encode_tensors
torch.manual_seed(7)
w = torch.randn(5, 3)
b = torch.randn(3, dtype=torch.float64)
tensors = {"layer.weight": w, "layer.bias": b} if sys.argv[1] == "a" else {"layer.bias": b, "layer.weight": w}
sys.stdout.write(encode_tensors(tensors, {"z": "1", "a": "2"}).hex())
"""


def test_identical_bytes_across_two_processes() -> None:
    outputs = []
    for order, seed in (("a", "1"), ("b", "2")):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run([sys.executable, "-c", _SUBPROCESS_SCRIPT, order],
                                capture_output=True, text=True, check=True, env=env, timeout=120)
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    torch.manual_seed(7)
    w = torch.randn(5, 3)
    b = torch.randn(3, dtype=torch.float64)
    local = encode_tensors({"layer.weight": w, "layer.bias": b}, {"a": "2", "z": "1"})
    assert outputs[0] == local.hex()


def test_round_trip_with_expected_layout() -> None:
    tensors = _sample()
    layout = expected_layout(tensors)
    assert layout == {"fc.bias": ((2,), "F32"), "fc.weight": ((2, 2), "F32")}
    decoded = decode_tensors(encode_tensors(tensors, {"x": "y"}), expected=layout)
    assert decoded.metadata == {"x": "y"}
    assert list(decoded.tensors) == ["fc.bias", "fc.weight"]
    assert decoded.tensors["fc.weight"].tolist() == [[1.0, -2.0], [0.5, 3.25]]
    decoded.tensors["fc.bias"][0] = 9.0  # own, writable memory


def test_expected_layout_of_a_module_and_float64_is_written_as_float32() -> None:
    module = torch.nn.Linear(3, 2)
    assert expected_layout(module) == {"bias": ((2,), "F32"), "weight": ((2, 3), "F32")}
    decoded = decode_tensors(encode_tensors({"x": np.array([0.1], dtype=np.float64)}))
    assert decoded.tensors["x"].dtype == torch.float32
    assert decoded.tensors["x"].item() == np.float32(0.1)


def test_encode_rejects_integer_tensors_and_bad_names() -> None:
    with pytest.raises(EncodeError):
        encode_tensors({"steps": torch.tensor([1, 2])})
    with pytest.raises(EncodeError):
        encode_tensors({"__metadata__": torch.zeros(1)})
    with pytest.raises(EncodeError):
        encode_tensors({"a": torch.zeros(1)}, {"k": 1})  # type: ignore[dict-item]
    with pytest.raises(EncodeError):
        expected_layout({"steps": torch.tensor([1])})


def test_error_tree() -> None:
    for cls in (NotSafetensorsError, TruncatedPayloadError, PayloadTooLargeError,
                LayoutMismatchError, NonFiniteValueError, EncodeError):
        assert issubclass(cls, CodecError)
    assert issubclass(InvalidOffsetsError, NotSafetensorsError)
    assert issubclass(CodecError, NodeError)


# --- one test per rejection class -------------------------------------------------------

def test_rejects_garbage_as_not_safetensors() -> None:
    with pytest.raises(NotSafetensorsError, match="does not start"):
        decode_tensors(b"this is certainly not a model file at all")


def test_rejects_a_pickle_without_unpickling_it() -> None:
    with pytest.raises(NotSafetensorsError):
        decode_tensors(pickle.dumps({"a": [1.0, 2.0]}))


def test_rejects_bad_header_json() -> None:
    body = b'{"a": {"dtype": '
    payload = struct.pack("<Q", len(body)) + body
    with pytest.raises(NotSafetensorsError, match="not valid JSON"):
        decode_tensors(payload)


def test_rejects_duplicate_header_keys() -> None:
    entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
    body = ('{"a":' + entry + ',"a":' + entry + "}").encode()
    with pytest.raises(NotSafetensorsError, match="duplicate"):
        decode_tensors(struct.pack("<Q", len(body)) + body + b"\0" * 4)


def test_rejects_malformed_entry() -> None:
    payload = _raw({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4)
    with pytest.raises(NotSafetensorsError, match="malformed shape"):
        decode_tensors(payload)


def test_rejects_truncated_data() -> None:
    data = encode_tensors(_sample())
    with pytest.raises(TruncatedPayloadError, match="describes 24 data bytes"):
        decode_tensors(data[:-1])


def test_rejects_truncated_header() -> None:
    data = encode_tensors(_sample())
    with pytest.raises(TruncatedPayloadError):
        decode_tensors(data[:30])
    with pytest.raises(TruncatedPayloadError):
        decode_tensors(data[:5])


def test_rejects_payload_too_large() -> None:
    data = encode_tensors(_sample())
    with pytest.raises(PayloadTooLargeError):
        decode_tensors(data, max_bytes=len(data) - 1)
    layout = expected_layout(_sample())
    assert decode_tensors(data, max_bytes=max_payload_bytes(layout)).tensors


def test_rejects_wrong_names() -> None:
    data = encode_tensors({"fc.weight": torch.zeros(2, 2)})
    with pytest.raises(LayoutMismatchError, match=r"missing \['fc.bias'\]"):
        decode_tensors(data, expected=expected_layout(_sample()))


def test_rejects_wrong_shape() -> None:
    data = encode_tensors({"fc.weight": torch.zeros(4), "fc.bias": torch.zeros(2)})
    with pytest.raises(LayoutMismatchError, match="shape"):
        decode_tensors(data, expected=expected_layout(_sample()))


def test_rejects_non_float32_dtype() -> None:
    payload = _raw({"a": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8)
    with pytest.raises(LayoutMismatchError, match="F64"):
        decode_tensors(payload)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_rejects_non_finite_values(bad: float) -> None:
    data = encode_tensors({"a": torch.tensor([1.0, bad, 2.0])})
    with pytest.raises(NonFiniteValueError, match="'a'"):
        decode_tensors(data)


def test_rejects_overlapping_offsets() -> None:
    header = {
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
    }
    with pytest.raises(InvalidOffsetsError, match="overlaps"):
        decode_tensors(_raw(header, b"\0" * 12))


def test_rejects_offsets_that_do_not_match_the_shape() -> None:
    header = {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}
    with pytest.raises(InvalidOffsetsError, match="do not hold"):
        decode_tensors(_raw(header, b"\0" * 8))


def test_rejects_trailing_bytes() -> None:
    with pytest.raises(InvalidOffsetsError, match="trailing"):
        decode_tensors(encode_tensors(_sample()) + b"\0\0\0\0")
