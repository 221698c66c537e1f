"""UnixFS files as ``ipfs add --cid-version 1 --raw-leaves`` builds them, and read back.

Layout (kubo's and js-ipfs's defaults, pinned here so every node agrees on a CID):

* the bytes are cut into fixed 256 KiB chunks; each chunk is a raw block (codec raw);
* a file of at most one chunk (including the empty file) is just that raw block;
* otherwise leaves are grouped 174 at a time under dag-pb nodes carrying UnixFS
  ``File`` data (filesize plus one blocksize per child), those nodes 174 at a time
  under the next level, and so on up to a single root: the "balanced" layout.

Building streams over a ``memoryview`` so leaves are hashed (and written, by a store)
without being copied. Reading walks the DAG from the root and re-hashes every block
against the CID it was asked for, so nothing comes back unverified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ledger.cid import DAG_PB, RAW, Cid
from ledger.content_errors import CidMismatchError
from ledger.dag_pb import (
    UNIXFS_FILE,
    UNIXFS_RAW,
    MalformedNodeError,
    decode_node,
    decode_unixfs,
    encode_file_node,
)

__all__ = ["CHUNK_SIZE", "MAX_LINKS", "build_dag", "cid_of", "cid_str", "iter_blocks", "read_file"]

CHUNK_SIZE = 256 * 1024
"""Fixed chunk size (``--chunker size-262144``, the default)."""
MAX_LINKS = 174
"""Most links per internal node in the balanced layout (the default)."""

Block = tuple[Cid, bytes | memoryview]
BlockFetcher = Callable[[Cid], bytes]


def iter_blocks(data: bytes | bytearray | memoryview) -> Iterator[Block]:
    """Yield every block of the file's DAG, leaves first, the root last.

    Leaves are ``memoryview`` slices of ``data`` (no copy): write or hash them before
    ``data`` changes. Internal nodes are ``bytes``.

    Args:
        data: the file's content.

    Yields:
        ``(cid, block bytes)``; the last pair is the root.
    """
    view = memoryview(data).cast("B")
    # Per level: (cid, file bytes below, serialized bytes below) for each node.
    level: list[tuple[Cid, int, int]] = []
    for start in range(0, max(len(view), 1), CHUNK_SIZE):
        leaf = view[start : start + CHUNK_SIZE]
        cid = Cid.of_block(RAW, leaf)
        level.append((cid, len(leaf), len(leaf)))
        yield cid, leaf
    while len(level) > 1:
        parents: list[tuple[Cid, int, int]] = []
        for first in range(0, len(level), MAX_LINKS):
            children = level[first : first + MAX_LINKS]
            node = encode_file_node(children)
            cid = Cid.of_block(DAG_PB, node)
            filesize = sum(child[1] for child in children)
            tsize = len(node) + sum(child[2] for child in children)
            parents.append((cid, filesize, tsize))
            yield cid, node
        level = parents


def cid_of(data: bytes | bytearray | memoryview) -> Cid:
    """Return the CID ``ipfs add --cid-version 1 --raw-leaves`` gives ``data``."""
    root: Cid | None = None
    for root, _ in iter_blocks(data):
        pass
    assert root is not None  # iter_blocks always yields at least one block
    return root


def cid_str(data: bytes | bytearray | memoryview) -> str:
    """``str(cid_of(data))``: the canonical content key aggregation orders updates by."""
    return str(cid_of(data))


def build_dag(data: bytes | bytearray | memoryview) -> tuple[Cid, list[tuple[Cid, bytes]]]:
    """Build the whole DAG of ``data`` in memory.

    Returns:
        ``(root CID, [(cid, block bytes), ...])`` with leaves first and the root last.
    """
    blocks = [(cid, bytes(block)) for cid, block in iter_blocks(data)]
    return blocks[-1][0], blocks


def read_file(root: Cid, fetch: BlockFetcher, *, source: str = "") -> bytes:
    """Reassemble a UnixFS file from its blocks, verifying every block's hash.

    Accepts any UnixFS file DAG (raw or dag-pb leaves, any layout), not only the ones
    ``iter_blocks`` builds, so content added by another IPFS client reads back too.

    Args:
        root: the file's CID.
        fetch: returns a block's bytes by CID (unverified; this function checks them)
            and raises ``BlockNotFoundError`` for a block it lacks.
        source: where blocks come from (directory, URL), for error messages.

    Returns:
        The file's bytes.

    Raises:
        CidMismatchError: a block does not hash to its CID.
        BlockNotFoundError: a block is missing (raised by ``fetch``).
        MalformedNodeError: a verified dag-pb block is not a UnixFS file node, or the
            sizes it declares do not add up.
    """
    parts: list[bytes] = []
    expected_size: int | None = None
    stack = [root]  # depth-first, children pushed in reverse so they pop in file order
    while stack:
        cid = stack.pop()
        block = fetch(cid)
        actual = Cid.of_block(cid.codec, block)
        if actual != cid:
            raise CidMismatchError(cid, actual, source)
        if cid.codec == RAW:
            parts.append(block)
            continue
        node = decode_node(block)
        unixfs = decode_unixfs(node.data)
        if unixfs.type not in (UNIXFS_FILE, UNIXFS_RAW):
            raise MalformedNodeError(f"UnixFS type {unixfs.type} is not a file", cid)
        if cid == root:
            expected_size = unixfs.filesize
        if unixfs.data:
            parts.append(unixfs.data)
        stack.extend(link.cid for link in reversed(node.links))
    content = b"".join(parts)
    if expected_size is not None and expected_size != len(content):
        raise MalformedNodeError(
            f"root declares {expected_size} bytes but its blocks hold {len(content)}", root
        )
    return content
