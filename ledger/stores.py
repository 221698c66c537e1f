"""Opening a content store from what a user typed: a URL is an IPFS node, anything else
a directory for the embedded store.

Kept apart from the interface (``ledger.store``) so that the interface imports neither
implementation (each implementation imports the interface).
"""

from __future__ import annotations

from urllib.parse import urlparse

from ledger.store import ContentStore

__all__ = ["open_store"]


def open_store(spec: str, *, timeout: float = 30.0) -> ContentStore:
    """Open a store from a user-facing spec.

    Args:
        spec: ``http://host:port`` (or ``https://``) for an IPFS node's RPC API;
            anything else is a directory for a ``LocalStore`` (created if missing).
        timeout: seconds an IPFS node may take per request (ignored for a directory).

    Returns:
        An open store; use it as a context manager.

    Raises:
        StoreUnavailableError: ``spec`` is a URL that cannot be used as an API address.
    """
    if urlparse(spec).scheme in ("http", "https"):
        from ledger.ipfs_store import IpfsStore  # ipfshttpclient only when needed

        return IpfsStore(spec, timeout=timeout)
    from ledger.local_store import LocalStore

    return LocalStore(spec)
