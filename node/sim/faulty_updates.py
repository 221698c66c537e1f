"""Deliberately bad updates, for robustness tests and demos (``node run --misbehave``).

Each function turns an honest ``(payload, numSamples)`` into what a faulty or malicious
participant might upload. Committee members must exclude every one of them
deterministically, record why, and finalize the round without them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from node.codec.safetensors import decode_tensors, encode_tensors

__all__ = ["MISBEHAVIOURS"]


def _garbage(payload: bytes, num_samples: int) -> tuple[bytes, int]:
    return b"this is not a safetensors file" * 4, num_samples


def _nan(payload: bytes, num_samples: int) -> tuple[bytes, int]:
    # Overwrite the first float32 of the data section (right after the JSON header).
    (header_len,) = struct.unpack_from("<Q", payload)
    start = 8 + header_len
    return payload[:start] + struct.pack("<f", float("nan")) + payload[start + 4:], num_samples


def _wrong_shape(payload: bytes, num_samples: int) -> tuple[bytes, int]:
    tensors = decode_tensors(payload).tensors
    name = min(tensors)
    tensors[name] = tensors[name].reshape(-1)[:-1].clone() if tensors[name].numel() > 1 \
        else tensors[name].reshape(-1).repeat(2)
    return encode_tensors(tensors), num_samples


MISBEHAVIOURS: dict[str, Callable[[bytes, int], tuple[bytes, int]]] = {
    "garbage": _garbage,
    "nan": _nan,
    "wrong-shape": _wrong_shape,
}
