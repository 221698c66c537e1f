"""Errors of the content store (CIDs, blocks, IPFS nodes).

    LedgerError                     (ledger.errors)
    └── ContentError
        ├── InvalidCidError         text or bytes that are not a supported CID
        ├── CidMismatchError        bytes that do not hash to the CID they were stored under
        ├── BlockNotFoundError      a block (or a whole DAG) the store does not have
        └── StoreUnavailableError   an IPFS node that cannot be reached or does not answer

They live in their own module so that ``ledger.cid`` (which raises ``InvalidCidError``)
and the stores can share them without import cycles; ``ledger.store`` re-exports them.
"""

from __future__ import annotations

from ledger.errors import LedgerError

__all__ = ["BlockNotFoundError", "CidMismatchError", "ContentError", "InvalidCidError", "StoreUnavailableError"]


class ContentError(LedgerError):
    """Base class of every content-store error."""


class InvalidCidError(ContentError, ValueError):
    """A string or byte string is not a CID this project accepts.

    Attributes:
        value: the offending input (as given).
        reason: why it was rejected.
    """

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"invalid CID {value!r}: {reason}")


class CidMismatchError(ContentError):
    """Content does not hash to the CID it was requested or stored under.

    Attributes:
        expected: the CID asked for (string form).
        actual: the CID the bytes actually have (string form).
        where: where the bad bytes came from (a file path or a node URL).
    """

    def __init__(self, expected: object, actual: object, where: str = "") -> None:
        self.expected = str(expected)
        self.actual = str(actual)
        self.where = where
        suffix = f" (from {where})" if where else ""
        super().__init__(
            f"content for {self.expected} hashes to {self.actual}{suffix}: corrupt or forged data"
        )


class BlockNotFoundError(ContentError):
    """The store does not hold a block needed to answer a request.

    Attributes:
        cid: the missing block's CID (string form).
        detail: extra context (e.g. the node URL and the timeout that expired).
    """

    def __init__(self, cid: object, detail: str = "") -> None:
        self.cid = str(cid)
        self.detail = detail
        super().__init__(f"block {self.cid} not found" + (f": {detail}" if detail else ""))


class StoreUnavailableError(ContentError):
    """An IPFS node is unreachable, refused the connection or timed out.

    Attributes:
        url: the node's API URL.
        detail: what went wrong.
    """

    def __init__(self, url: str, detail: str) -> None:
        self.url = url
        self.detail = detail
        super().__init__(f"IPFS node at {url} unavailable: {detail}")
