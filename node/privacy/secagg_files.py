"""Secure-aggregation file formats: the masked update file and the seed-reveal file.

Both are canonical (equal content, equal bytes, equal CID) and parsed strictly: a file that
is not exactly what this module writes is rejected. See ``node.privacy.secagg`` for the protocol.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from node.errors import NodeError
from node.privacy.fixed_point import FixedPointError, RingParams
from node.privacy.masks import MaskError, normalize_address

__all__ = [
    "MASKED_TENSOR",
    "MaskedPayloadError",
    "MaskedUpdate",
    "SecureAggError",
    "SeedReveal",
    "SeedRevealError",
    "SeedRevealFormatError",
    "decode_masked",
    "decode_seed_reveal",
    "encode_masked",
    "encode_seed_reveal",
]

MASKED_TENSOR = "masked"
_PREFIX = "fedledger.secagg."
_VERSION = "1"
_U64 = np.dtype("<u8")
_INT_KEYS = ("frac_bits", "max_members", "round", "task", "weight")


class SecureAggError(NodeError):
    """Base class of secure-aggregation failures."""


class MaskedPayloadError(SecureAggError):
    """A masked update file that does not parse, or does not fit the round."""


class SeedRevealFormatError(SecureAggError):
    """A seed reveal file that does not parse."""


class SeedRevealError(SecureAggError):
    """Dangling masks cannot be removed: some survivors' reveals are missing or wrong.

    Attributes:
        culprits: ``(revealer, dropped member, reason)`` for each bad or missing seed,
            sorted.
    """

    def __init__(self, culprits: Sequence[tuple[str, str, str]]) -> None:
        self.culprits = tuple(sorted(culprits))
        names = sorted({who for who, _, _ in self.culprits})
        super().__init__(f"bad seed reveals from {names}: {list(self.culprits)}")


@dataclass(frozen=True)
class MaskedUpdate:
    """A decoded masked update.

    Attributes:
        member: the submitter's address (lowercase hex).
        task: task id; round: round index.
        weight: the pre-weighting factor (capped ``numSamples``).
        params: the ring parameters it was encoded with.
        commitments: peer address -> 32-byte seed commitment.
        vector: the masked ring vector (``uint64``).
        metadata: the whole metadata map (DP keys included).
    """

    member: str
    task: int
    round: int
    weight: int
    params: RingParams
    commitments: Mapping[str, bytes]
    vector: np.ndarray = field(repr=False)
    metadata: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class SeedReveal:
    """A survivor's published pair seeds with the round's dropped members."""

    task: int
    round: int
    revealer: str
    seeds: Mapping[str, bytes]


def _encode_u64(vector: np.ndarray, metadata: Mapping[str, str]) -> bytes:
    """Canonical safetensors with one U64 tensor, laid out as ``node.codec.safetensors`` lays out F32."""
    data = np.ascontiguousarray(vector, dtype=_U64).tobytes()
    header = {
        "__metadata__": {key: metadata[key] for key in sorted(metadata)},
        MASKED_TENSOR: {"dtype": "U64", "shape": [int(vector.size)],
                        "data_offsets": [0, len(data)]},
    }
    header_bytes = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)
    return struct.pack("<Q", len(header_bytes)) + header_bytes + data


def encode_masked(vector: np.ndarray, *, member: str, task: int, round_index: int,
                  weight: int, params: RingParams, commitments: Mapping[str, bytes],
                  extra_metadata: Mapping[str, str] | None = None) -> bytes:
    """The canonical masked update file of ``member`` (see ``node.privacy.secagg``).

    Raises:
        MaskedPayloadError: ``extra_metadata`` uses the reserved ``fedledger.secagg.`` prefix.
    """
    extra = dict(extra_metadata or {})
    if any(key.startswith(_PREFIX) for key in extra):
        raise MaskedPayloadError(f"extra metadata may not use the {_PREFIX!r} prefix")
    hex_commitments = {peer: c.hex() for peer, c in sorted(commitments.items())}
    metadata = {
        **extra,
        _PREFIX + "commitments": json.dumps(hex_commitments, separators=(",", ":")),
        _PREFIX + "frac_bits": str(params.frac_bits),
        _PREFIX + "max_members": str(params.max_members),
        _PREFIX + "member": member,
        _PREFIX + "round": str(round_index),
        _PREFIX + "task": str(task),
        _PREFIX + "version": _VERSION,
        _PREFIX + "weight": str(weight),
    }
    return _encode_u64(vector, metadata)


def decode_masked(data: bytes, *, size: int) -> MaskedUpdate:
    """Parse a masked update file (never unpickles); strict about every field.

    Args:
        data: the file's bytes.
        size: the model's parameter count (the vector must have exactly this length).

    Raises:
        MaskedPayloadError: anything malformed: framing, header JSON, a tensor other than
            one ``U64`` ``masked`` of length ``size``, missing or malformed metadata.
    """
    view = memoryview(data).cast("B")
    limit = 8 + (1 << 26) + 8 * size  # data plus a generous header for thousands of peers
    if len(view) < 8 or len(view) > limit:
        raise MaskedPayloadError(f"masked update of {len(view)} bytes")
    (header_len,) = struct.unpack("<Q", view[:8])
    if 8 + header_len + 8 * size != len(view):
        raise MaskedPayloadError("header length and data size do not add up")
    try:
        header = json.loads(bytes(view[8:8 + header_len]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise MaskedPayloadError(f"header is not JSON: {err}") from err
    expected_entry = {"dtype": "U64", "shape": [size], "data_offsets": [0, 8 * size]}
    if (not isinstance(header, dict) or set(header) != {"__metadata__", MASKED_TENSOR}
            or header[MASKED_TENSOR] != expected_entry):
        raise MaskedPayloadError(f"expected one U64 tensor {MASKED_TENSOR!r} of {size} values")
    metadata = header["__metadata__"]
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise MaskedPayloadError("metadata must map strings to strings")
    if metadata.get(_PREFIX + "version") != _VERSION:
        raise MaskedPayloadError("unknown secure-aggregation format version")
    try:
        ints = {key: _parse_int(metadata[_PREFIX + key]) for key in _INT_KEYS}
        params = RingParams(frac_bits=ints["frac_bits"], max_members=ints["max_members"])
        member = normalize_address(metadata[_PREFIX + "member"])
        raw = json.loads(metadata[_PREFIX + "commitments"])
        if not isinstance(raw, dict):
            raise MaskedPayloadError("commitments must be a JSON object")
        commitments = {normalize_address(peer): _parse_hash(value) for peer, value in raw.items()}
    except KeyError as err:
        raise MaskedPayloadError(f"missing metadata {err}") from err
    except (ValueError, FixedPointError, MaskError) as err:
        raise MaskedPayloadError(f"malformed metadata: {err}") from err
    canonical = json.dumps({p: c.hex() for p, c in sorted(commitments.items())},
                           separators=(",", ":"))
    if (member in commitments or canonical != metadata[_PREFIX + "commitments"]
            or ints["weight"] < 1):
        raise MaskedPayloadError("bad commitments or weight")
    vector = np.frombuffer(view, dtype=_U64, count=size, offset=8 + header_len).astype(np.uint64)
    if _encode_u64(vector, metadata) != bytes(view):  # one file per content: CIDs stay unique
        raise MaskedPayloadError("masked update is not in canonical form")
    return MaskedUpdate(member=member, task=ints["task"], round=ints["round"],
                        weight=ints["weight"], params=params, commitments=commitments,
                        vector=vector, metadata=dict(metadata))


def encode_seed_reveal(reveal: SeedReveal) -> bytes:
    """Canonical JSON bytes (sorted keys, compact, ASCII) of a seed reveal."""
    body = {"dropped": {normalize_address(d): bytes(s).hex() for d, s in reveal.seeds.items()},
            "revealer": normalize_address(reveal.revealer), "round": reveal.round,
            "task": reveal.task, "version": 1}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")


def decode_seed_reveal(data: bytes) -> SeedReveal:
    """Parse a seed reveal file.

    Raises:
        SeedRevealFormatError: not canonical JSON of the expected shape.
    """
    try:
        body = json.loads(bytes(data).decode("ascii"))
        if not isinstance(body, dict) or set(body) != {"dropped", "revealer", "round",
                                                       "task", "version"}:
            raise ValueError("wrong keys")
        if body["version"] != 1 or not isinstance(body["dropped"], dict):
            raise ValueError("wrong version or dropped map")
        reveal = SeedReveal(task=_as_int(body["task"]), round=_as_int(body["round"]),
                            revealer=normalize_address(body["revealer"]),
                            seeds={normalize_address(d): _parse_hash(s)
                                   for d, s in body["dropped"].items()})
    except (UnicodeDecodeError, ValueError, MaskError, TypeError) as err:
        raise SeedRevealFormatError(f"malformed seed reveal: {err}") from err
    if encode_seed_reveal(reveal) != bytes(data):
        raise SeedRevealFormatError("seed reveal is not in canonical form")
    return reveal


def _parse_int(text: str) -> int:
    if not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        raise ValueError(f"not a canonical non-negative integer: {text!r}")
    return int(text)


def _as_int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"not a non-negative int: {value!r}")
    return value


def _parse_hash(text: object) -> bytes:
    if not isinstance(text, str) or len(text) != 64 or text != text.lower():
        raise ValueError(f"not 32 bytes of lowercase hex: {text!r}")
    return bytes.fromhex(text)
