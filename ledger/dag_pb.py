"""The two protobuf messages of a UnixFS file node, encoded and decoded by hand.

A dag-pb block is a ``PBNode``::

    message PBLink { optional bytes Hash = 1; optional string Name = 2; optional uint64 Tsize = 3; }
    message PBNode { repeated PBLink Links = 2; optional bytes Data = 1; }

and its ``Data`` holds a UnixFS ``Data`` message::

    message Data { required DataType Type = 1; optional bytes Data = 2;
                   optional uint64 filesize = 3; repeated uint64 blocksizes = 4; ... }

Canonical dag-pb puts the links before the data, and kubo and js-ipfs both write an
empty ``Name`` on every file link; matching those bytes exactly is what makes our CIDs
equal theirs. A protobuf library would be a dependency for ~100 lines of varints.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ledger.cid import Cid
from ledger.content_errors import ContentError

__all__ = [
    "UNIXFS_FILE",
    "UNIXFS_RAW",
    "MalformedNodeError",
    "PBLink",
    "PBNode",
    "UnixFsData",
    "decode_node",
    "decode_unixfs",
    "encode_file_node",
]

UNIXFS_RAW = 0
UNIXFS_FILE = 2

_VARINT = 0
_LEN = 2


class MalformedNodeError(ContentError):
    """A dag-pb block whose bytes are not a well-formed UnixFS file node.

    Attributes:
        cid: the block's CID (string form), when known.
        reason: what is wrong with it.
    """

    def __init__(self, reason: str, cid: object = "") -> None:
        self.cid = str(cid)
        self.reason = reason
        where = f" {self.cid}" if self.cid else ""
        super().__init__(f"malformed dag-pb node{where}: {reason}")


@dataclass(frozen=True)
class PBLink:
    """A link of a dag-pb node: the child's CID and the total size of its subtree."""

    cid: Cid
    tsize: int


@dataclass(frozen=True)
class PBNode:
    """A decoded dag-pb node: its links in order and its (UnixFS) data bytes."""

    links: tuple[PBLink, ...]
    data: bytes


@dataclass(frozen=True)
class UnixFsData:
    """The fields of a UnixFS ``Data`` message that a file reader needs."""

    type: int
    data: bytes
    filesize: int | None
    blocksizes: tuple[int, ...]


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _len_field(tag: int, payload: bytes) -> bytes:
    return bytes((tag,)) + _varint(len(payload)) + payload


def encode_file_node(children: list[tuple[Cid, int, int]]) -> bytes:
    """Encode an internal UnixFS file node over raw or file children.

    Args:
        children: ``(cid, filesize, tsize)`` per child, in file order: ``filesize`` is
            the number of file bytes under the child, ``tsize`` the serialized size of
            its whole subtree.

    Returns:
        The dag-pb block, byte-identical to what kubo and js-ipfs write.
    """
    unixfs = bytearray(b"\x08\x02")  # Type = File
    unixfs += b"\x18" + _varint(sum(filesize for _, filesize, _ in children))
    for _, filesize, _ in children:
        unixfs += b"\x20" + _varint(filesize)
    out = bytearray()
    for cid, _, tsize in children:
        link = _len_field(0x0A, cid.to_bytes()) + b"\x12\x00" + b"\x18" + _varint(tsize)
        out += _len_field(0x12, link)
    out += _len_field(0x0A, bytes(unixfs))
    return bytes(out)


def _read_varint(buf: bytes, pos: int, what: str) -> tuple[int, int]:
    """Read one varint at ``pos``; return ``(value, position after it)``."""
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise MalformedNodeError(f"truncated or overlong varint in {what}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes, what: str) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field number, wire type, value)`` of a protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos, what)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos, what)
            yield number, wire, value
        elif wire == _LEN:
            length, pos = _read_varint(buf, pos, what)
            if pos + length > len(buf):
                raise MalformedNodeError(f"field {number} of {what} runs past the end")
            yield number, wire, buf[pos : pos + length]
            pos += length
        else:
            raise MalformedNodeError(f"unsupported wire type {wire} in {what}")


def _expect(wire: int, wanted: int, number: int, what: str) -> None:
    if wire != wanted:
        raise MalformedNodeError(f"field {number} of {what} has wire type {wire}")


def decode_node(block: bytes) -> PBNode:
    """Decode a dag-pb block into its links and data.

    Raises:
        MalformedNodeError: if the bytes are not a dag-pb ``PBNode``.
        InvalidCidError: if a link holds a CID this project does not support.
    """
    links: list[PBLink] = []
    data = b""
    for number, wire, value in _fields(block, "PBNode"):
        if number == 1:
            _expect(wire, _LEN, number, "PBNode")
            data = bytes(value)
        elif number == 2:
            _expect(wire, _LEN, number, "PBNode")
            links.append(_decode_link(value))  # type: ignore[arg-type]
        else:
            raise MalformedNodeError(f"unknown PBNode field {number}")
    return PBNode(tuple(links), data)


def _decode_link(buf: bytes) -> PBLink:
    cid: Cid | None = None
    tsize = 0
    for number, wire, value in _fields(buf, "PBLink"):
        if number == 1:
            _expect(wire, _LEN, number, "PBLink")
            cid = Cid.from_bytes(value)  # type: ignore[arg-type]
        elif number == 3:
            _expect(wire, _VARINT, number, "PBLink")
            tsize = value  # type: ignore[assignment]
        # field 2 (Name) is irrelevant to a file
    if cid is None:
        raise MalformedNodeError("a link without a Hash")
    return PBLink(cid, tsize)


def decode_unixfs(buf: bytes) -> UnixFsData:
    """Decode the UnixFS ``Data`` message carried in a dag-pb node's data.

    Raises:
        MalformedNodeError: if it is not a UnixFS ``Data`` message.
    """
    kind: int | None = None
    data = b""
    filesize: int | None = None
    blocksizes: list[int] = []
    for number, wire, value in _fields(buf, "UnixFS Data"):
        if number == 1:
            _expect(wire, _VARINT, number, "UnixFS Data")
            kind = value  # type: ignore[assignment]
        elif number == 2:
            _expect(wire, _LEN, number, "UnixFS Data")
            data = bytes(value)
        elif number == 3:
            _expect(wire, _VARINT, number, "UnixFS Data")
            filesize = value  # type: ignore[assignment]
        elif number == 4:
            if wire == _VARINT:
                blocksizes.append(value)  # type: ignore[arg-type]
            else:  # a packed encoding is legal protobuf, accept it
                blocksizes.extend(_packed_varints(value))  # type: ignore[arg-type]
        # hashType, fanout, mode, mtime: irrelevant to reading a file's bytes
    if kind is None:
        raise MalformedNodeError("UnixFS Data without a Type")
    return UnixFsData(kind, data, filesize, tuple(blocksizes))


def _packed_varints(buf: bytes) -> Iterator[int]:
    pos = 0
    while pos < len(buf):
        value, pos = _read_varint(buf, pos, "packed blocksizes")
        yield value
