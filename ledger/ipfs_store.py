"""A content store over any IPFS node's HTTP RPC API (kubo or js-ipfs).

The node is trusted for nothing: every CID it reports on ``put`` is recomputed
locally (``ledger.unixfs.cid_of``) and every byte it returns on ``get`` is re-hashed.
Requests carry the server-side ``timeout`` option, because a node asked for content
it lacks keeps searching (forever, when offline): the node's "request timed out"
becomes ``BlockNotFoundError``, while a node that does not answer at all becomes
``StoreUnavailableError``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import urlparse

import ipfshttpclient
import ipfshttpclient.exceptions as ipfs_errors

from ledger.cid import Cid
from ledger.content_errors import (
    BlockNotFoundError,
    CidMismatchError,
    ContentError,
    InvalidCidError,
    StoreUnavailableError,
)
from ledger.store import ContentStore
from ledger.unixfs import CHUNK_SIZE, cid_of, read_file

__all__ = ["IpfsStore"]

_T = TypeVar("_T")


@contextlib.contextmanager
def _quiet_client() -> Iterator[None]:
    """ipfshttpclient 0.7 passes a parameter urllib3 2.x deprecates, once per connection
    pool; silence exactly that warning, only around our own calls (never the global
    filters of the program that imports us)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="The 'strict' parameter is no longer needed", category=FutureWarning
        )
        yield

_ADD_OPTIONS = {
    "cid-version": 1,
    "raw-leaves": "true",
    "chunker": f"size-{CHUNK_SIZE}",
    "pin": "true",
}
_STREAM_CHUNK = 1 << 20  # upload in 1 MiB pieces (the client's default is 8 KiB)


def _multiaddr(api_url: str) -> str:
    """Turn ``http://host:port`` into the multiaddr ipfshttpclient expects."""
    url = urlparse(api_url)
    if url.scheme not in ("http", "https") or not url.hostname or url.port is None:
        raise StoreUnavailableError(api_url, "expected an API URL like http://127.0.0.1:5001")
    try:
        proto = "ip6" if ipaddress.ip_address(url.hostname).version == 6 else "ip4"
    except ValueError:
        proto = "dns"
    return f"/{proto}/{url.hostname}/tcp/{url.port}/{url.scheme}"


class IpfsStore(ContentStore):
    """Content store on an IPFS node's RPC API.

    Args:
        api_url: the node's API, ``http://host:port``.
        timeout: seconds the node may spend on one request (server side, so that a
            missing block ends as an error); the HTTP client waits a bit longer.

    Raises:
        StoreUnavailableError: ``api_url`` is not an ``http(s)://host:port`` URL.
    """

    def __init__(self, api_url: str = "http://127.0.0.1:5001", *, timeout: float = 30.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self._client = ipfshttpclient.Client(
            _multiaddr(self.api_url), timeout=timeout + 5.0, chunk_size=_STREAM_CHUNK
        )

    def __repr__(self) -> str:
        return f"IpfsStore({self.api_url!r})"

    def close(self) -> None:
        """Close the HTTP session."""
        self._client.close()

    # -- ContentStore -------------------------------------------------------------------

    def put(self, data: bytes) -> Cid:
        """Add and pin ``data`` on the node; return its CID, checked locally.

        The local hash runs in a thread while the node ingests the upload.

        Raises:
            CidMismatchError: the node names the content differently than we do.
            StoreUnavailableError: the node cannot be reached or did not answer.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="cid-of") as pool:
            expected = pool.submit(cid_of, data)
            answer = self._call(
                "add",
                None,
                lambda: self._client.add_bytes(bytes(data), opts=self._opts(_ADD_OPTIONS)),
            )
        reported = Cid.parse(answer)
        if reported != expected.result():
            raise CidMismatchError(expected.result(), reported, self.api_url)
        return reported

    def get(self, cid: Cid) -> bytes:
        """Fetch ``cid`` and verify it.

        Fast path: ``cat`` the file and recompute its CID. Content laid out otherwise
        (e.g. added with other chunking) or bytes that do not match are then read
        block by block, every block re-hashed, so the error names the bad block.

        Raises:
            BlockNotFoundError: the node does not find the content within the timeout.
            CidMismatchError: a block the node returned does not hash to its CID.
            StoreUnavailableError: the node cannot be reached or did not answer.
        """
        data = self._call("cat", cid, lambda: self._client.cat(str(cid), opts=self._opts()))
        if cid_of(data) == cid:
            return data
        return read_file(cid, self._get_block, source=self.api_url)

    def has(self, cid: Cid) -> bool:
        """Tell whether the node itself holds the root block of ``cid``.

        Read from the node's list of local blocks (``refs/local``), compared by digest since
        nodes list blocks under the raw codec. Not ``block/stat`` with ``offline``: js-ipfs
        ignores that option, and a node with peers would fetch the block to answer.

        Raises:
            StoreUnavailableError: the node cannot be reached or did not answer.
        """
        return cid in self.held([cid])

    def held(self, cids: Iterable[Cid]) -> set[Cid]:
        """Which of ``cids``' root blocks the node holds itself (one ``refs/local`` pass).

        Raises:
            StoreUnavailableError: the node cannot be reached or did not answer.
        """
        refs = self._call("refs/local", None,
                          lambda: self._client.unstable.refs.local(opts=self._opts()))
        local = {_digest_of(entry.get("Ref", "")) for entry in refs}
        return {cid for cid in cids if cid.digest in local}

    def pinned(self, cids: Iterable[Cid]) -> set[Cid]:
        """Which of ``cids`` the node pins recursively (one ``pin/ls`` call).

        Raises:
            StoreUnavailableError: the node cannot be reached or did not answer.
        """
        answer = self._call("pin/ls", None, lambda: self._client.pin.ls(
            type="recursive", opts=self._opts()))
        digests = {_digest_of(key) for key in answer.get("Keys", {})}
        return {cid for cid in cids if cid.digest in digests}

    def unpin(self, cid: Cid) -> None:
        """Drop ``cid``'s recursive pin (absent pins are fine: retention is idempotent).

        Raises:
            StoreUnavailableError: the node cannot be reached or did not answer.
        """
        try:
            self._call("pin/rm", cid, lambda: self._client.pin.rm(str(cid), opts=self._opts()))
        except ContentError as err:
            if "not pinned" not in str(err).lower():
                raise

    def pin(self, cid: Cid) -> None:
        """Pin ``cid`` recursively on the node.

        Raises:
            BlockNotFoundError: the node does not find the content within the timeout.
            StoreUnavailableError: the node cannot be reached or did not answer.
        """
        self._call("pin/add", cid, lambda: self._client.pin.add(str(cid), opts=self._opts()))

    # -- internals ----------------------------------------------------------------------

    def _opts(self, extra: dict[str, object] | None = None) -> dict[str, object]:
        return {"timeout": f"{self.timeout}s", **(extra or {})}

    def _get_block(self, cid: Cid) -> bytes:
        return self._call(
            "block/get", cid, lambda: self._client.block.get(str(cid), opts=self._opts())
        )

    def _call(self, what: str, cid: Cid | None, request: Callable[[], _T]) -> _T:
        """Run one API request, translating the client's errors into ours."""
        try:
            with _quiet_client():
                return request()
        except ipfs_errors.ConnectionError as err:
            raise StoreUnavailableError(self.api_url, f"{what}: cannot connect ({err})") from err
        except ipfs_errors.TimeoutError as err:
            raise StoreUnavailableError(
                self.api_url, f"{what}: no answer within {self.timeout + 5.0:.0f} s"
            ) from err
        except ipfs_errors.ErrorResponse as err:
            message = str(err)
            if cid is not None and _means_not_found(message):
                raise BlockNotFoundError(
                    cid, f"{self.api_url} did not find it within {self.timeout:g} s ({message})"
                ) from err
            raise ContentError(f"IPFS node at {self.api_url} refused {what}: {message}") from err
        except ipfs_errors.CommunicationError as err:
            raise StoreUnavailableError(self.api_url, f"{what}: {err}") from err


def _digest_of(ref: str) -> bytes | None:
    """The sha2-256 digest a local-block entry names (None for one we cannot read)."""
    try:
        return Cid.parse(ref).digest
    except InvalidCidError:
        return None


def _means_not_found(message: str) -> bool:
    lowered = message.lower()
    return any(
        phrase in lowered for phrase in ("timed out", "not found", "no link named", "offline")
    )
