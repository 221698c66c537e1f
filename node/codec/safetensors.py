"""Canonical safetensors codec for model weights and updates.

Every model and update that travels between participants is a safetensors file written
by :func:`encode_tensors`: tensor names in sorted order, float32 little-endian data laid
out in that order, metadata keys sorted, header padded with spaces to a multiple of 8
bytes. Equal tensors therefore give equal bytes and equal CIDs on every machine (the
header is written here rather than by the safetensors library so that the byte layout is
ours to guarantee; the result still loads with ``safetensors``).

:func:`decode_tensors` parses bytes fetched from the network without ``pickle`` or
``torch.load`` and validates everything before any tensor is built.

Errors::

    NodeError
    └── CodecError
        ├── EncodeError            (a tensor or metadata this codec cannot write)
        ├── NotSafetensorsError    (garbage, bad header JSON, malformed header entries)
        │   └── InvalidOffsetsError  (overlapping, gapped or misordered data offsets)
        ├── TruncatedPayloadError  (fewer bytes than the header promises)
        ├── PayloadTooLargeError   (more bytes than the caller allows)
        ├── LayoutMismatchError    (names, shapes or dtypes differ from the expected layout)
        └── NonFiniteValueError    (a NaN or an infinity in the data)
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from node.errors import NodeError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DTYPE",
    "CodecError",
    "DecodedTensors",
    "EncodeError",
    "InvalidOffsetsError",
    "Layout",
    "LayoutMismatchError",
    "NonFiniteValueError",
    "NotSafetensorsError",
    "PayloadTooLargeError",
    "TruncatedPayloadError",
    "decode_tensors",
    "encode_tensors",
    "expected_layout",
    "max_payload_bytes",
]

DTYPE = "F32"
"""The only dtype this codec writes or accepts (safetensors' name for float32)."""

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
"""Default cap on a payload: far above the models this project trains, far below RAM."""

_HEADER_LIMIT = 100_000_000  # the safetensors library's own cap on header size
_METADATA_KEY = "__metadata__"
_LITTLE_F32 = np.dtype("<f4")

Layout = Mapping[str, tuple[tuple[int, ...], str]]
"""Tensor name -> (shape, dtype string), e.g. ``{"fc.weight": ((2, 4), "F32")}``."""


class CodecError(NodeError):
    """Base class of every encode/decode failure."""


class EncodeError(CodecError):
    """A tensor, name or metadata entry that the canonical format cannot represent."""


class NotSafetensorsError(CodecError):
    """The bytes are not a safetensors file (garbage, bad header JSON, bad entries)."""


class InvalidOffsetsError(NotSafetensorsError):
    """Data offsets overlap, leave gaps, or do not match the tensor sizes."""


class TruncatedPayloadError(CodecError):
    """The payload ends before the header or the data it describes."""


class PayloadTooLargeError(CodecError):
    """The payload is larger than the caller's ``max_bytes``."""


class LayoutMismatchError(CodecError):
    """Tensor names, shapes or dtypes differ from the expected layout."""


class NonFiniteValueError(CodecError):
    """A tensor holds NaN or an infinity."""


@dataclass(frozen=True)
class DecodedTensors:
    """What :func:`decode_tensors` returns.

    Attributes:
        tensors: name -> float32 tensor (own memory, writable), in sorted name order.
        metadata: the file's ``__metadata__`` (empty when absent).
    """

    tensors: dict[str, torch.Tensor]
    metadata: dict[str, str]


def encode_tensors(
    tensors: Mapping[str, torch.Tensor | np.ndarray],
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """Write ``tensors`` as canonical safetensors bytes.

    Floating tensors of any precision are converted to float32 (values are written as
    they are: NaN or infinities are the decoder's business, so that tests and attack
    simulations can produce them).

    Args:
        tensors: name -> floating tensor or array (CPU or not, any layout).
        metadata: optional string -> string metadata; stored with sorted keys,
            omitted from the header when empty.

    Returns:
        The canonical bytes.

    Raises:
        EncodeError: a name that is empty, not a string or ``"__metadata__"``; a
            non-floating tensor; metadata that is not string -> string.
    """
    names = sorted(tensors)
    header: dict[str, Any] = {}
    meta = _check_metadata(metadata or {})
    if meta:
        header[_METADATA_KEY] = {key: meta[key] for key in sorted(meta)}
    chunks: list[bytes] = []
    offset = 0
    for name in names:
        if not isinstance(name, str) or not name or name == _METADATA_KEY:
            raise EncodeError(f"invalid tensor name {name!r}")
        array = _as_float32(name, tensors[name])
        data = array.tobytes(order="C")
        header[name] = {
            "dtype": DTYPE,
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    # Insertion order above is canonical (metadata first, then sorted names, keys in
    # safetensors' own order); compact separators, UTF-8 as serde_json writes it.
    header_bytes = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)
    return b"".join([struct.pack("<Q", len(header_bytes)), header_bytes, *chunks])


def decode_tensors(
    data: bytes | bytearray | memoryview,
    *,
    expected: Layout | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> DecodedTensors:
    """Parse and validate safetensors bytes; never unpickles anything.

    Checks, in order: size cap, header framing, header JSON, each entry (dtype F32,
    shape, offsets contiguous and covering the data exactly), the expected layout (if
    given), then finiteness of every value.

    Args:
        data: the payload, e.g. as fetched from IPFS.
        expected: the layout the payload must have exactly (see :func:`expected_layout`).
        max_bytes: reject payloads longer than this.

    Returns:
        The tensors (float32, own memory) and metadata.

    Raises:
        PayloadTooLargeError: ``len(data) > max_bytes``.
        NotSafetensorsError: not a safetensors file, bad JSON, malformed entries.
        InvalidOffsetsError: overlapping, gapped or mis-sized data offsets.
        TruncatedPayloadError: the header or data is cut short.
        LayoutMismatchError: names, shapes or dtypes differ from ``expected``, or a
            dtype other than F32.
        NonFiniteValueError: a NaN or infinite value.
    """
    view = memoryview(data).cast("B")
    if len(view) > max_bytes:
        raise PayloadTooLargeError(f"payload is {len(view)} bytes, limit is {max_bytes}")
    entries, metadata, data_start = _parse_header(view)
    _check_offsets(entries, len(view) - data_start)
    if expected is not None:
        _check_layout(entries, expected)
    tensors: dict[str, torch.Tensor] = {}
    for name in sorted(entries):
        shape, begin, end = entries[name]
        array = np.frombuffer(view, dtype=_LITTLE_F32, count=(end - begin) // 4,
                              offset=data_start + begin)
        if not np.isfinite(array).all():
            raise NonFiniteValueError(f"tensor {name!r} holds NaN or infinite values")
        # copy: own, writable, native-endian memory independent of the payload buffer
        tensors[name] = torch.from_numpy(array.astype(np.float32, copy=True).reshape(shape))
    return DecodedTensors(tensors=tensors, metadata=metadata)


def expected_layout(
    module_or_state: torch.nn.Module | Mapping[str, torch.Tensor | np.ndarray],
) -> dict[str, tuple[tuple[int, ...], str]]:
    """The layout an encoded copy of a model (or state dict) has.

    Args:
        module_or_state: a module (its ``state_dict()`` is used) or a name -> tensor map.

    Returns:
        ``{name: (shape, "F32")}`` in sorted name order.

    Raises:
        EncodeError: a non-floating tensor (e.g. an integer buffer), which the
            canonical format cannot carry.
    """
    state = (module_or_state.state_dict() if isinstance(module_or_state, torch.nn.Module)
             else module_or_state)
    layout: dict[str, tuple[tuple[int, ...], str]] = {}
    for name in sorted(state):
        value = state[name]
        dtype_ok = (value.is_floating_point() if isinstance(value, torch.Tensor)
                    else np.issubdtype(np.asarray(value).dtype, np.floating))
        if not dtype_ok:
            raise EncodeError(f"tensor {name!r} is not floating point")
        layout[name] = (tuple(int(d) for d in value.shape), DTYPE)
    return layout


def max_payload_bytes(layout: Layout, *, header_allowance: int = 65536) -> int:
    """A tight ``max_bytes`` for payloads of ``layout``: data size plus header room.

    Args:
        layout: the expected layout.
        header_allowance: bytes allowed for the header beyond ~256 per tensor entry.

    Returns:
        8 + header allowance + 256 per tensor + 4 bytes per value.
    """
    values = sum(math.prod(shape) for shape, _ in layout.values())
    return 8 + header_allowance + 256 * len(layout) + 4 * values


def _as_float32(name: str, value: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise EncodeError(f"tensor {name!r} has non-floating dtype {value.dtype}")
        array = value.detach().to(device="cpu", dtype=torch.float32).contiguous().numpy()
    else:
        array = np.asarray(value)
        if not np.issubdtype(array.dtype, np.floating):
            raise EncodeError(f"array {name!r} has non-floating dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=_LITTLE_F32)


def _check_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise EncodeError(f"metadata must map str to str, got {key!r}: {value!r}")
    return dict(metadata)


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise NotSafetensorsError(f"duplicate header key {key!r}")
        result[key] = value
    return result


def _parse_header(
    view: memoryview,
) -> tuple[dict[str, tuple[tuple[int, ...], int, int]], dict[str, str], int]:
    """Return ``({name: (shape, begin, end)}, metadata, data_start)``."""
    if len(view) < 8:
        raise TruncatedPayloadError(f"payload of {len(view)} bytes has no header length")
    (header_len,) = struct.unpack("<Q", view[:8])
    if len(view) > 8 and view[8] != ord("{"):
        raise NotSafetensorsError("header does not start with '{'")
    if header_len > _HEADER_LIMIT:
        raise NotSafetensorsError(f"header length {header_len} exceeds {_HEADER_LIMIT}")
    if header_len < 2 or 8 + header_len > len(view):
        raise TruncatedPayloadError(
            f"header of {header_len} bytes does not fit in {len(view)} bytes")
    try:
        header = json.loads(bytes(view[8:8 + header_len]).decode("utf-8"),
                            object_pairs_hook=_reject_duplicates)
    except (UnicodeDecodeError, ValueError) as err:
        if isinstance(err, NotSafetensorsError):
            raise
        raise NotSafetensorsError(f"header is not valid JSON: {err}") from err
    if not isinstance(header, dict):
        raise NotSafetensorsError("header is not a JSON object")
    metadata = header.pop(_METADATA_KEY, {})
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise NotSafetensorsError("__metadata__ must map strings to strings")
    entries: dict[str, tuple[tuple[int, ...], int, int]] = {}
    for name, entry in header.items():
        entries[name] = _parse_entry(name, entry)
    return entries, dict(metadata), 8 + header_len


def _parse_entry(name: str, entry: Any) -> tuple[tuple[int, ...], int, int]:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise NotSafetensorsError(f"entry {name!r} is not {{dtype, shape, data_offsets}}")
    shape, offsets, dtype = entry["shape"], entry["data_offsets"], entry["dtype"]
    if not isinstance(dtype, str):
        raise NotSafetensorsError(f"entry {name!r} has a non-string dtype")
    if dtype != DTYPE:
        raise LayoutMismatchError(f"tensor {name!r} has dtype {dtype}, only {DTYPE} is accepted")
    if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
        raise NotSafetensorsError(f"entry {name!r} has a malformed shape {shape!r}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(_is_count(o) for o in offsets)):
        raise NotSafetensorsError(f"entry {name!r} has malformed data_offsets {offsets!r}")
    begin, end = offsets
    if end - begin != 4 * math.prod(shape):
        raise InvalidOffsetsError(
            f"tensor {name!r}: offsets [{begin}, {end}] do not hold shape {shape} of F32")
    return tuple(shape), begin, end


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_offsets(entries: Mapping[str, tuple[tuple[int, ...], int, int]],
                   data_len: int) -> None:
    """The tensors must tile ``[0, data_len)`` exactly: no overlap, gap or tail."""
    position = 0
    for name, (_, begin, end) in sorted(entries.items(), key=lambda item: item[1][1:]):
        if begin != position:
            kind = "overlaps the previous tensor" if begin < position else "leaves a gap"
            raise InvalidOffsetsError(f"tensor {name!r} at offset {begin} {kind}")
        position = end
    if position > data_len:
        raise TruncatedPayloadError(
            f"header describes {position} data bytes, payload holds {data_len}")
    if position < data_len:
        raise InvalidOffsetsError(f"{data_len - position} trailing bytes after the last tensor")


def _check_layout(entries: Mapping[str, tuple[tuple[int, ...], int, int]],
                  expected: Layout) -> None:
    missing = sorted(set(expected) - set(entries))
    extra = sorted(set(entries) - set(expected))
    if missing or extra:
        raise LayoutMismatchError(f"tensor names differ: missing {missing}, unexpected {extra}")
    for name in sorted(expected):
        shape, dtype = expected[name]
        if dtype != DTYPE:
            raise LayoutMismatchError(f"expected layout asks {dtype} for {name!r}; only F32")
        if entries[name][0] != tuple(shape):
            raise LayoutMismatchError(
                f"tensor {name!r} has shape {list(entries[name][0])}, expected {list(shape)}")
