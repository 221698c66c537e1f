"""An embedded blockstore in a directory, with the CIDs a real IPFS node computes.

Layout::

    <root>/blocks/<last character of the CID>/<canonical CID>   one file per block
    <root>/pins/<canonical CID>                                      an empty marker per pin

Several processes may use one directory at once: a block is written to a unique
temporary file and ``os.replace``d into place, so a reader sees either no file or a
whole one, and two writers of the same block write the same bytes. Blocks are not
fsynced (that would cost more than hashing); a block torn by a power cut is caught by
the hash check every read does, and putting the content again repairs it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ledger.cid import DAG_PB, Cid
from ledger.content_errors import BlockNotFoundError, ContentError
from ledger.dag_pb import decode_node
from ledger.store import ContentStore
from ledger.unixfs import CHUNK_SIZE, iter_blocks, read_file

__all__ = ["LocalStore"]

_BASE32_CHARS = "abcdefghijklmnopqrstuvwxyz234567"
_WRITER_THREADS = 2  # more did not help on 2 cores; creating files is the bottleneck


class LocalStore(ContentStore):
    """Content store backed by one file per block under ``root``.

    Args:
        root: the store's directory, created if missing.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._blocks = self.root / "blocks"
        self._pins = self.root / "pins"
        self._pins.mkdir(parents=True, exist_ok=True)
        # 32 shards (one per base32 character), made up front: creating a directory
        # during a put costs as much as writing a whole block.
        for shard in _BASE32_CHARS:
            (self._blocks / shard).mkdir(parents=True, exist_ok=True)
        self._blocks_dir = str(self._blocks)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def block_path(self, cid: Cid) -> Path:
        """Return the file that holds (or would hold) the block ``cid``."""
        name = str(cid)
        return self._blocks / name[-1] / name

    # -- ContentStore -------------------------------------------------------------------

    def put(self, data: bytes) -> Cid:
        """Store ``data`` block by block and pin it; return its CID.

        Every block is (re)written, so a put also repairs a corrupted copy. Blocks are
        written by a few threads while this one hashes the next chunks: both hashing
        and file I/O release the GIL, and on a busy disk creating a file can cost more
        than hashing 256 KiB.

        Raises:
            OSError: a block could not be written (the store stays consistent: only
                whole blocks are ever visible).
        """
        blocks = iter_blocks(data)
        if len(data) <= CHUNK_SIZE:  # a single raw block: no thread worth starting
            root, block = next(blocks)
            self._write_block(root, block)
        else:
            with ThreadPoolExecutor(_WRITER_THREADS, thread_name_prefix="block-writer") as pool:
                writes = []
                for root, block in blocks:
                    writes.append(pool.submit(self._write_block, root, block))
            for write in writes:
                write.result()  # re-raise the first failure, if any
        self.pin(root)
        return root

    def get(self, cid: Cid) -> bytes:
        """Reassemble ``cid`` from its blocks, re-hashing every one of them.

        Raises:
            BlockNotFoundError: a block file is missing (names the block's CID).
            CidMismatchError: a block file does not hash to its name.
            MalformedNodeError: a verified internal node is not a UnixFS file node.
        """
        return read_file(cid, self._read_block, source=str(self._blocks))

    def has(self, cid: Cid) -> bool:
        """Tell whether every block of ``cid``'s DAG is present.

        Hashes are not checked (``get`` does that); a node too corrupted to list its
        links counts as absent.
        """
        stack = [cid]
        while stack:
            current = stack.pop()
            path = self.block_path(current)
            if current.codec != DAG_PB:
                if not path.exists():
                    return False
                continue
            try:
                node = decode_node(path.read_bytes())
            except FileNotFoundError:
                return False
            except ContentError:  # a corrupted node: the store cannot serve this DAG
                return False
            stack.extend(link.cid for link in node.links)
        return True

    def pin(self, cid: Cid) -> None:
        """Record a pin on ``cid``.

        Raises:
            BlockNotFoundError: the root block is not in the store.
        """
        if not self.block_path(cid).exists():
            raise BlockNotFoundError(cid, f"cannot pin: not in {self.root}")
        (self._pins / str(cid)).touch()

    # -- LocalStore only ----------------------------------------------------------------

    def pins(self) -> list[Cid]:
        """Return the pinned CIDs, sorted."""
        return sorted(Cid.parse(path.name) for path in self._pins.iterdir())

    # -- blocks -------------------------------------------------------------------------

    def _write_block(self, cid: Cid, block: bytes | memoryview) -> None:
        name = str(cid)
        # Plain strings, not pathlib: this runs once per 256 KiB block.
        final = f"{self._blocks_dir}/{name[-1]}/{name}"
        temp = f"{final}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(block)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(temp, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    def _read_block(self, cid: Cid) -> bytes:
        path = self.block_path(cid)
        try:
            with open(path, "rb") as src:
                return src.read()
        except FileNotFoundError:
            raise BlockNotFoundError(cid, f"no file {path}") from None
