"""Content identifiers: one canonical value for every spelling of a CID.

A ``Cid`` is just ``(codec, sha2-256 digest)``: that pair is what the contract stores
(``bytes32`` digest plus codec) and what every string form denotes. Parsing accepts the
spellings IPFS nodes hand out (base32 CIDv1 ``bafy...``/``bafk...``, base58btc CIDv1
``z...`` as js-ipfs answers, CIDv0 ``Qm...``); ``str()`` always gives canonical base32
CIDv1. The codecs are hand-written (a varint, base32, base58btc) because they are tiny
and about 100x faster than the generic ``multiformats`` machinery, which matters when
every block of every DAG is named.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from ledger.content_errors import InvalidCidError

__all__ = ["DAG_PB", "RAW", "SHA2_256", "Cid", "cid_from_chain"]

RAW = 0x55
"""Multicodec of a raw block (a UnixFS leaf with ``--raw-leaves``)."""
DAG_PB = 0x70
"""Multicodec of a dag-pb block (a UnixFS internal node; every CIDv0)."""
SHA2_256 = 0x12
"""Multihash code of sha2-256, the only hash function used here."""

_DIGEST_LEN = 32
_SUPPORTED_CODECS = {RAW: "raw", DAG_PB: "dag-pb"}
_CIDV1 = 0x01
# Binary prefixes (all codes below 0x80, so every varint is one byte).
_MULTIHASH_PREFIX = bytes((SHA2_256, _DIGEST_LEN))
_V1_PREFIX = {codec: bytes((_CIDV1, codec)) + _MULTIHASH_PREFIX for codec in _SUPPORTED_CODECS}
_V1_LEN = 2 + len(_MULTIHASH_PREFIX) + _DIGEST_LEN
_V0_LEN = len(_MULTIHASH_PREFIX) + _DIGEST_LEN

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {ch: i for i, ch in enumerate(_B58_ALPHABET)}


@dataclass(frozen=True, order=True)
class Cid:
    """A CIDv1 with a sha2-256 multihash, reduced to what identifies content.

    Attributes:
        codec: multicodec of the block, ``RAW`` or ``DAG_PB``.
        digest: the 32-byte sha2-256 digest of the block's bytes.

    Raises:
        InvalidCidError: on an unsupported codec or a digest that is not 32 bytes.
    """

    codec: int
    digest: bytes

    def __post_init__(self) -> None:
        if self.codec not in _SUPPORTED_CODECS:
            raise InvalidCidError(
                (self.codec, self.digest), f"unsupported codec 0x{self.codec:x} (raw, dag-pb only)"
            )
        if not isinstance(self.digest, bytes) or len(self.digest) != _DIGEST_LEN:
            raise InvalidCidError((self.codec, self.digest), "digest must be 32 bytes")

    @classmethod
    def of_block(cls, codec: int, block: bytes | bytearray | memoryview) -> Cid:
        """Name a block by hashing it.

        Args:
            codec: ``RAW`` or ``DAG_PB``.
            block: the block's exact bytes.

        Returns:
            The block's CID.
        """
        return cls(codec, hashlib.sha256(block).digest())

    # -- binary -------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Return the binary CIDv1 (version, codec, multihash)."""
        return _V1_PREFIX[self.codec] + self.digest

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Cid:
        """Decode a binary CIDv1, or a bare 34-byte sha2-256 multihash (binary CIDv0).

        Raises:
            InvalidCidError: if the bytes are not such a CID.
        """
        raw = bytes(data)
        if len(raw) == _V0_LEN and raw.startswith(_MULTIHASH_PREFIX):
            return cls(DAG_PB, raw[len(_MULTIHASH_PREFIX) :])
        if len(raw) < 4:
            raise InvalidCidError(raw, f"expected {_V1_LEN} bytes, got {len(raw)}")
        if raw[0] != _CIDV1:
            raise InvalidCidError(raw, f"unsupported CID version {raw[0]}")
        if raw[1] not in _SUPPORTED_CODECS:
            raise InvalidCidError(raw, f"unsupported codec 0x{raw[1]:x} (raw, dag-pb only)")
        if raw[2:4] != _MULTIHASH_PREFIX:
            raise InvalidCidError(raw, "multihash is not a 32-byte sha2-256")
        if len(raw) != _V1_LEN:
            raise InvalidCidError(raw, f"expected {_V1_LEN} bytes, got {len(raw)}")
        return cls(raw[1], raw[4:])

    # -- text ---------------------------------------------------------------------------

    def __str__(self) -> str:
        """Canonical text: multibase 'b' (lower-case base32, no padding) CIDv1."""
        return "b" + base64.b32encode(self.to_bytes()).decode("ascii").lower().rstrip("=")

    def __repr__(self) -> str:
        return f"Cid('{self}')"

    @classmethod
    def parse(cls, text: str) -> Cid:
        """Parse any supported spelling of a CID into its canonical value.

        Accepted: base32 CIDv1 (``b...``, or ``B...`` upper case), base58btc CIDv1
        (``z...``) and CIDv0 (``Qm...``, dag-pb by definition).

        Raises:
            InvalidCidError: if ``text`` is not a supported CID.
        """
        if not isinstance(text, str):
            raise InvalidCidError(text, "expected a string")
        text = text.strip()
        try:
            return cls.from_bytes(_decode_text(text))
        except InvalidCidError as err:
            if err.value == text:
                raise
            raise InvalidCidError(text, err.reason) from None


def _decode_text(text: str) -> bytes:
    """Undo the multibase (or CIDv0 base58) encoding of a CID string."""
    if len(text) == 46 and text.startswith("Qm"):
        return _b58decode(text, text)
    if len(text) < 2:
        raise InvalidCidError(text, "too short")
    prefix, body = text[0], text[1:]
    if prefix in "bB":
        return _b32decode(body, text)
    if prefix == "z":
        binary = _b58decode(body, text)
        if len(binary) == _V0_LEN and binary.startswith(_MULTIHASH_PREFIX):
            raise InvalidCidError(text, "a bare multihash is not a CIDv1")
        return binary
    raise InvalidCidError(text, f"unsupported multibase prefix {prefix!r}")


def _b32decode(body: str, original: str) -> bytes:
    padded = body.upper() + "=" * (-len(body) % 8)
    try:
        return base64.b32decode(padded)
    except (binascii.Error, ValueError) as err:
        raise InvalidCidError(original, "not valid base32") from err


def _b58decode(body: str, original: str) -> bytes:
    number = 0
    for ch in body:
        digit = _B58_INDEX.get(ch)
        if digit is None:
            raise InvalidCidError(original, f"not valid base58btc (character {ch!r})")
        number = number * 58 + digit
    leading_zeros = len(body) - len(body.lstrip("1"))
    return b"\x00" * leading_zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def cid_from_chain(digest: bytes, codec: int) -> Cid | None:
    """The CID an on-chain ``(bytes32 digest, uint64 codec)`` pair names, or None.

    The contracts do not judge codecs, so a participant can register a pair that names no
    supported CID; readers treat such an entry as unavailable instead of failing.
    """
    try:
        return Cid(int(codec), bytes(digest))
    except InvalidCidError:
        return None
