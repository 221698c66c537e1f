"""The content store seam: put bytes, get them back by CID, verified.

Two implementations share this interface and compute identical CIDs (those of
``ipfs add --cid-version 1 --raw-leaves``, see ``ledger.unixfs``):

* ``LocalStore`` (``ledger.local_store``): an embedded blockstore in a directory;
* ``IpfsStore`` (``ledger.ipfs_store``): any IPFS node's HTTP RPC API.

Errors (all re-exported here)::

    LedgerError
    └── ContentError
        ├── InvalidCidError         not a supported CID
        ├── CidMismatchError        bytes that do not hash to their CID
        ├── BlockNotFoundError      content the store does not have
        ├── StoreUnavailableError   an IPFS node unreachable or not answering
        └── MalformedNodeError      a verified block that is not a UnixFS file node
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from ledger.cid import Cid
from ledger.closing import Closing
from ledger.content_errors import (
    BlockNotFoundError,
    CidMismatchError,
    ContentError,
    InvalidCidError,
    StoreUnavailableError,
)
from ledger.dag_pb import MalformedNodeError

__all__ = [
    "BlockNotFoundError",
    "Cid",
    "CidMismatchError",
    "ContentError",
    "ContentStore",
    "InvalidCidError",
    "MalformedNodeError",
    "StoreUnavailableError",
]


class ContentStore(Closing, ABC):
    """Content-addressed storage of whole files (model updates, manifests).

    Every implementation re-hashes what it reads: ``get`` either returns exactly the
    bytes named by the CID or raises.
    """

    @abstractmethod
    def put(self, data: bytes) -> Cid:
        """Store ``data`` and pin it.

        Returns:
            Its CID (canonical, identical on every store).

        Raises:
            ContentError: the store could not store it (subclass says why).
        """

    @abstractmethod
    def get(self, cid: Cid) -> bytes:
        """Return the content named by ``cid``, verified against it.

        Raises:
            BlockNotFoundError: the store lacks (part of) the content.
            CidMismatchError: a block read does not hash to its CID.
            StoreUnavailableError: the backing node cannot be reached.
        """

    @abstractmethod
    def has(self, cid: Cid) -> bool:
        """Tell whether the store can serve ``cid`` without asking anyone else.

        Raises:
            StoreUnavailableError: the backing node cannot be reached.
        """

    @abstractmethod
    def pin(self, cid: Cid) -> None:
        """Keep ``cid`` (and everything under it) from garbage collection.

        Raises:
            BlockNotFoundError: the store lacks the content.
            StoreUnavailableError: the backing node cannot be reached.
        """

    def unpin(self, cid: Cid) -> None:
        """Let ``cid`` be garbage-collected (retention: ``node run --keep-rounds``). A store
        without garbage collection keeps everything: the default does nothing.

        Raises:
            StoreUnavailableError: the backing node cannot be reached.
        """
        return

    def held(self, cids: Iterable[Cid]) -> set[Cid]:
        """Which of ``cids`` the store serves without asking anyone (one pass per call).

        Raises:
            StoreUnavailableError: the backing node cannot be reached.
        """
        return {cid for cid in cids if self.has(cid)}

    def pinned(self, cids: Iterable[Cid]) -> set[Cid]:
        """Which of ``cids`` are kept from garbage collection (a store without garbage
        collection: every one it holds).

        Raises:
            StoreUnavailableError: the backing node cannot be reached.
        """
        return self.held(cids)

    def close(self) -> None:
        """Release connections or handles; the store is unusable afterwards."""
