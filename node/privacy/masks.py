"""Pairwise masks for secure aggregation: key agreement, KDF, mask stream, commitments.

For a round ``r`` of task ``t`` two members ``a < b`` (addresses compared as lowercase hex)
share a 32-byte *pair seed*:

    shared = sha256(compressed ECDH point)          # coincurve PrivateKey.ecdh, secp256k1
    seed   = HKDF-SHA256(ikm=shared, salt=SALT,
                         info=TAG || t (32 B) || r (8 B) || a (20 B) || b (20 B))

so both ends compute it from their own private key and the other's registered public key,
and a seed revealed for one round and pair says nothing about any other round or pair
(the long-lived ECDH secret is never published). The mask is the first ``8n`` bytes of
SHAKE-256(MASK_TAG || seed), read as ``n`` little-endian ``uint64`` ring elements. Member
``a`` adds it and member ``b`` subtracts it, so the pair's masks cancel in the sum.

A member commits to every seed it used with ``sha256(COMMIT_TAG || seed)``; both ends of
a pair commit the same value. A seed revealed later for a dropped member is checked
against the revealer's own commitment.

Errors::

    NodeError
    └── MaskError  (a malformed address, public key or seed)
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

import numpy as np
from coincurve import PrivateKey, PublicKey

from node.errors import NodeError

__all__ = [
    "SEED_BYTES",
    "MaskError",
    "add_pair_masks",
    "expand_mask",
    "hkdf_sha256",
    "mask_sign",
    "normalize_address",
    "pair_seed",
    "seed_commitment",
]

SEED_BYTES = 32
_SALT = b"fedledger/secagg/v1"
_PAIR_TAG = b"fedledger/secagg/pair-seed/v1"
_MASK_TAG = b"fedledger/secagg/mask/v1"
_COMMIT_TAG = b"fedledger/secagg/seed-commitment/v1"
_ADDRESS_RE = re.compile(r"^0x[0-9a-f]{40}$")
_RING = np.dtype("<u8")


class MaskError(NodeError):
    """A malformed address, public key or seed."""


def normalize_address(address: str) -> str:
    """``0x`` + 40 lowercase hex digits (checksummed or not on input).

    Raises:
        MaskError: not a 20-byte hex address.
    """
    if not isinstance(address, str) or not _ADDRESS_RE.match(address.lower()):
        raise MaskError(f"not an address: {address!r}")
    return address.lower()


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF (RFC 5869) with HMAC-SHA256: extract then expand.

    Raises:
        MaskError: ``length`` outside ``[1, 255 * 32]``.
    """
    if not 1 <= length <= 255 * 32:
        raise MaskError(f"HKDF length must be in [1, 8160], got {length}")
    prk = hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()
    out, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
    return out[:length]


def pair_seed(private_key: PrivateKey, peer_public_key: bytes, *, task: int, round_index: int,
              own: str, peer: str) -> bytes:
    """The 32-byte seed this member shares with ``peer`` for one round of one task.

    Args:
        private_key: this member's key-agreement key (``node.privacy.keys``).
        peer_public_key: the peer's registered 33-byte compressed public key.
        task: the task id.
        round_index: the round.
        own: this member's address.
        peer: the peer's address (must differ from ``own``).

    Raises:
        MaskError: an invalid public key or address, ``own == peer``, or a negative
            task or round.
    """
    own, peer = normalize_address(own), normalize_address(peer)
    if own == peer:
        raise MaskError("a member has no pair seed with itself")
    if not (isinstance(task, int) and 0 <= task < 2**256
            and isinstance(round_index, int) and 0 <= round_index < 2**64):
        raise MaskError(f"bad task {task!r} or round {round_index!r}")
    try:
        shared = private_key.ecdh(PublicKey(bytes(peer_public_key)).format(compressed=True))
    except (ValueError, TypeError) as err:
        raise MaskError(f"invalid public key for {peer}: {err}") from err
    low, high = sorted((own, peer))
    info = (_PAIR_TAG + task.to_bytes(32, "big") + round_index.to_bytes(8, "big")
            + bytes.fromhex(low[2:]) + bytes.fromhex(high[2:]))
    return hkdf_sha256(shared, salt=_SALT, info=info)


def _check_seed(seed: bytes) -> bytes:
    if not isinstance(seed, (bytes, bytearray)) or len(seed) != SEED_BYTES:
        raise MaskError(f"a pair seed is {SEED_BYTES} bytes")
    return bytes(seed)


def expand_mask(seed: bytes, size: int) -> np.ndarray:
    """``size`` ring elements from SHAKE-256 of the seed (uniform modulo 2^64).

    Raises:
        MaskError: a seed that is not 32 bytes, or a negative size.
    """
    if size < 0:
        raise MaskError(f"negative mask size {size}")
    stream = hashlib.shake_256(_MASK_TAG + _check_seed(seed)).digest(8 * size)
    return np.frombuffer(stream, dtype=_RING).astype(np.uint64)


def seed_commitment(seed: bytes) -> bytes:
    """``sha256(COMMIT_TAG || seed)``: published at submit time, checked at reveal time.

    Raises:
        MaskError: a seed that is not 32 bytes.
    """
    return hashlib.sha256(_COMMIT_TAG + _check_seed(seed)).digest()


def mask_sign(own: str, peer: str) -> int:
    """+1 if ``own`` adds the pair's mask (``own < peer``), -1 if it subtracts it.

    Raises:
        MaskError: malformed or equal addresses.
    """
    own, peer = normalize_address(own), normalize_address(peer)
    if own == peer:
        raise MaskError("a member has no mask with itself")
    return 1 if own < peer else -1


def add_pair_masks(vector: np.ndarray, own: str, seeds: Mapping[str, bytes], *,
                   sign: int = 1) -> np.ndarray:
    """``vector + sign * sum_j mask_sign(own, j) * mask(seed_j)`` in the ring, in place.

    ``sign=-1`` removes masks (what the committee does with revealed seeds).

    Args:
        vector: 1-D ``uint64`` array, modified in place and returned.
        own: the member whose masks these are.
        seeds: peer address -> pair seed.
        sign: +1 to apply, -1 to remove.

    Raises:
        MaskError: a bad vector, address or seed.
    """
    if vector.ndim != 1 or vector.dtype != np.uint64:
        raise MaskError("masks apply to a 1-D uint64 vector")
    if sign not in (1, -1):
        raise MaskError(f"sign must be +1 or -1, got {sign!r}")
    for peer in sorted(seeds):
        mask = expand_mask(seeds[peer], vector.size)
        if sign * mask_sign(own, peer) > 0:
            np.add(vector, mask, out=vector)
        else:
            np.subtract(vector, mask, out=vector)
    return vector
