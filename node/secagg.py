"""Secure aggregation: masked update files, seed reveals, and the secure sum.

A participant in a ``secure`` round publishes, instead of its delta, a canonical
safetensors file with ONE tensor ``"masked"`` (dtype ``U64``, shape ``[n]``):

    masked = encode_weighted(delta, weight) + sum_j sign(me, j) * mask(seed(me, j))   (mod 2^64)

over every other member ``j`` of the round's mask set (the task's members), plus metadata
(sorted keys, all strings): ``fedledger.secagg.{version, task, round, member, weight,
frac_bits, max_members, commitments}`` where ``commitments`` is the compact JSON
``{peer: hex(sha256(tag || seed))}``. The file is content-addressed and its CID goes on
chain with ``submitUpdate``, so the commitments are fixed before anyone drops out.

For every member ``d`` of the mask set that has no valid masked update in the round, each
survivor ``s`` publishes a *seed reveal* (canonical JSON, :func:`encode_seed_reveal`) with
``seed(s, d)``; :func:`secure_sum` checks each against ``s``'s own commitment and removes
the dangling masks. A missing, malformed or wrong reveal makes the sum unrecoverable and
is reported with the revealer's address (:class:`SeedRevealError`).

Errors::

    NodeError
    └── SecureAggError
        ├── MaskedPayloadError  (a masked update file that does not parse or fit the round)
        ├── SeedRevealFormatError (a seed reveal file that does not parse)
        └── SeedRevealError     (missing or wrong reveals; ``culprits`` names the revealers)
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from coincurve import PrivateKey

from node.errors import NodeError
from node.fixed_point import FixedPointError, RingParams, decode_sum, encode_weighted
from node.masks import (
    MaskError,
    add_pair_masks,
    expand_mask,
    mask_sign,
    normalize_address,
    pair_seed,
    seed_commitment,
)

__all__ = [
    "MASKED_TENSOR",
    "MaskedPayloadError",
    "MaskedUpdate",
    "SecureAggError",
    "SecureSum",
    "SeedReveal",
    "SeedRevealError",
    "SeedRevealFormatError",
    "decode_masked",
    "decode_seed_reveal",
    "encode_seed_reveal",
    "mask_update",
    "reveal_seeds",
    "secure_sum",
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
class SecureSum:
    """The unmasked weighted sum of a secure round.

    Attributes:
        weighted_sum: ``sum_i w_i * delta_i`` (float64), exact up to ``params.resolution``.
        total_weight: ``sum_i w_i`` over the summed updates.
        ring_sum: the unmasked ring sum (``uint64``), equal to the sum of the plain
            encodings exactly.
        members: the summed members in the order given.
    """

    weighted_sum: np.ndarray
    total_weight: int
    ring_sum: np.ndarray
    members: tuple[str, ...]


@dataclass(frozen=True)
class SeedReveal:
    """A survivor's published pair seeds with the round's dropped members."""

    task: int
    round: int
    revealer: str
    seeds: Mapping[str, bytes]


# ---------------------------------------------------------------------- masking


def mask_update(delta: np.ndarray, *, weight: int, params: RingParams, task: int,
                round_index: int, own: str, private_key: PrivateKey,
                peers: Mapping[str, bytes],
                extra_metadata: Mapping[str, str] | None = None) -> bytes:
    """The masked update file a participant puts on IPFS in a secure round.

    Args:
        delta: the flat float delta (canonical order, ``node.flat_params.flatten``).
        weight: ``capped_weight(numSamples, max_samples)``, the same numSamples it
            submits on chain.
        params: the round's ring parameters (identical for every member).
        task: task id; round_index: the round.
        own: this member's address.
        private_key: this member's key-agreement key.
        peers: every OTHER member of the mask set -> its registered public key.
        extra_metadata: more metadata (e.g. ``node.dp`` keys); must not use the
            ``fedledger.secagg.`` prefix.

    Returns:
        Canonical safetensors bytes.

    Raises:
        FixedPointError: a value that is not finite or beyond the ring bound.
        MaskError: a bad address or public key, or ``own`` among ``peers``.
        MaskedPayloadError: reserved keys in ``extra_metadata``, or more members than
            ``params.max_members``.
    """
    own = normalize_address(own)
    seeds = {normalize_address(peer): pair_seed(private_key, key, task=task,
                                                round_index=round_index, own=own, peer=peer)
             for peer, key in peers.items()}
    if len(seeds) + 1 > params.max_members:
        raise MaskedPayloadError(
            f"{len(seeds) + 1} members exceed the ring's max_members {params.max_members}")
    vector = add_pair_masks(encode_weighted(delta, weight, params), own, seeds)
    extra = dict(extra_metadata or {})
    if any(key.startswith(_PREFIX) for key in extra):
        raise MaskedPayloadError(f"extra metadata may not use the {_PREFIX!r} prefix")
    commitments = {peer: seed_commitment(seed).hex() for peer, seed in sorted(seeds.items())}
    metadata = {
        **extra,
        _PREFIX + "commitments": json.dumps(commitments, separators=(",", ":")),
        _PREFIX + "frac_bits": str(params.frac_bits),
        _PREFIX + "max_members": str(params.max_members),
        _PREFIX + "member": own,
        _PREFIX + "round": str(round_index),
        _PREFIX + "task": str(task),
        _PREFIX + "version": _VERSION,
        _PREFIX + "weight": str(weight),
    }
    return _encode_u64(vector, metadata)


def reveal_seeds(private_key: PrivateKey, *, own: str, dropped: Mapping[str, bytes],
                 task: int, round_index: int) -> bytes:
    """The seed reveal file a survivor publishes for the round's dropped members.

    Args:
        private_key: the survivor's key-agreement key.
        own: the survivor's address.
        dropped: dropped member -> its registered public key.
        task, round_index: the round.

    Raises:
        MaskError: a bad address or public key.
    """
    seeds = {normalize_address(d): pair_seed(private_key, key, task=task,
                                             round_index=round_index, own=own, peer=d)
             for d, key in dropped.items()}
    return encode_seed_reveal(SeedReveal(task=task, round=round_index,
                                         revealer=normalize_address(own), seeds=seeds))


# ---------------------------------------------------------------------- file formats


def _encode_u64(vector: np.ndarray, metadata: Mapping[str, str]) -> bytes:
    """Canonical safetensors with one U64 tensor, laid out as ``node.codec`` lays out F32."""
    data = np.ascontiguousarray(vector, dtype=_U64).tobytes()
    header = {
        "__metadata__": {key: metadata[key] for key in sorted(metadata)},
        MASKED_TENSOR: {"dtype": "U64", "shape": [int(vector.size)],
                        "data_offsets": [0, len(data)]},
    }
    header_bytes = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)
    return struct.pack("<Q", len(header_bytes)) + header_bytes + data


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


# ---------------------------------------------------------------------- the sum


def secure_sum(updates: Sequence[MaskedUpdate], dropped: Sequence[str],
               reveals: Mapping[str, Mapping[str, bytes]]) -> SecureSum:
    """Unmask the weighted sum of a round's masked updates.

    Ring addition is exact and order-free, so the result is bit-for-bit the same on
    every machine whatever the order of ``updates``.

    Args:
        updates: the valid masked updates (same task, round, ring and length).
        dropped: the other members of the mask set (no valid update this round).
        reveals: survivor -> {dropped member -> revealed pair seed}; needed only when
            ``dropped`` is not empty. Seeds for anyone not dropped are ignored.

    Returns:
        The weighted sum, total weight and ring sum.

    Raises:
        SecureAggError: no updates, or updates that disagree on task, round, ring,
            length or mask set.
        SeedRevealError: a survivor's seed for a dropped member is missing or does not
            match its commitment; every such ``(survivor, dropped, reason)`` is named.
    """
    if not updates:
        raise SecureAggError("a secure sum needs at least one update")
    first = updates[0]
    members = [u.member for u in updates]
    lost = sorted({normalize_address(d) for d in dropped})
    mask_set = set(members) | set(lost)
    if len(set(members)) != len(members) or set(members) & set(lost):
        raise SecureAggError("a member appears twice among submitters and dropped members")
    if len(mask_set) > first.params.max_members:
        raise SecureAggError(f"{len(mask_set)} members exceed max_members {first.params.max_members}")
    for update in updates:
        if ((update.task, update.round, update.params, update.vector.size)
                != (first.task, first.round, first.params, first.vector.size)):
            raise SecureAggError(f"update of {update.member} is for another round or ring")
        if set(update.commitments) != mask_set - {update.member}:
            raise SecureAggError(f"update of {update.member} was masked for another member set")
    culprits: list[tuple[str, str, str]] = []
    for update in updates:
        given = {normalize_address(k): v for k, v in reveals.get(update.member, {}).items()}
        for peer in lost:
            seed = given.get(peer)
            if seed is None:
                culprits.append((update.member, peer, "no seed revealed"))
            elif len(seed) != 32 or seed_commitment(seed) != update.commitments[peer]:
                culprits.append((update.member, peer, "revealed seed does not match commitment"))
    if culprits:
        raise SeedRevealError(culprits)
    ring = np.zeros(first.vector.size, dtype=np.uint64)
    for update in updates:
        np.add(ring, update.vector, out=ring)
    for update in updates:  # remove each survivor's masks with the dropped members
        given = {normalize_address(k): v for k, v in reveals.get(update.member, {}).items()}
        for peer in lost:
            mask = expand_mask(given[peer], ring.size)
            if mask_sign(update.member, peer) > 0:
                np.subtract(ring, mask, out=ring)
            else:
                np.add(ring, mask, out=ring)
    return SecureSum(weighted_sum=decode_sum(ring, first.params),
                     total_weight=sum(u.weight for u in updates), ring_sum=ring,
                     members=tuple(members))
