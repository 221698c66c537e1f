"""One JSON-RPC request without web3's layers, for the hot paths.

web3's ``w3.eth.*`` methods and contract layer format every request and reply, and its
provider goes through ``requests``: together several times the cost of the request itself
(0.55 ms of client CPU per ``eth_call`` against 0.13 ms over a kept-alive ``http.client``
connection). A node reading the chain at every block spends much of its CPU there. The fast
paths (``ledger.chain.abi_codec`` callers, fees, estimates, sends, timestamps) send the
request here and, on anything unexpected, go back to web3's method, which raises the usual
error.

Plain ``http://`` endpoints with no proxy in the environment take a connection per thread,
kept alive; anything else (HTTPS, a proxy, an in-process chain) goes through the web3
provider's own ``make_request``, still skipping web3's formatting.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Sequence
from itertools import count
from typing import Any
from urllib.parse import urlsplit

import requests
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3Exception

__all__ = ["raw_result"]

_NOT_RESENT = frozenset({"eth_sendRawTransaction"})  # a lost reply may hide a sent transaction
_local = threading.local()
_ids = count(1)


class _Connection:
    """A kept-alive connection to one ``http://host:port/path`` endpoint."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._path = parts.path or "/"
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def post(self, body: bytes, *, resend: bool) -> bytes:
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port,
                                                        timeout=self._timeout)
            try:
                self._conn.request("POST", self._path, body,
                                   {"Content-Type": "application/json"})
                response = self._conn.getresponse()
                data = response.read()
                if response.status != 200:
                    raise http.client.HTTPException(f"HTTP {response.status}")
                return data
            except (OSError, http.client.HTTPException):
                self._conn.close()
                self._conn = None  # a closed keep-alive connection: open a new one once
                if attempt or not resend:
                    raise
        raise AssertionError("unreachable")


def _direct(w3: Web3) -> _Connection | None:
    """This thread's connection to ``w3``'s endpoint, or None where it must not be used."""
    provider = w3.provider
    url = str(getattr(provider, "endpoint_uri", "") or "")
    if not url.startswith("http://"):
        return None
    connections: dict[str, _Connection | None] = _local.__dict__.setdefault("connections", {})
    if url not in connections:
        proxied = bool(requests.utils.get_environ_proxies(url))
        kwargs = provider.get_request_kwargs() if isinstance(provider, HTTPProvider) else {}
        timeout = float(kwargs.get("timeout") or 30.0)
        connections[url] = None if proxied else _Connection(url, timeout)
    return connections[url]


def raw_result(w3: Web3, method: str, params: Sequence[Any]) -> Any:
    """A JSON-RPC request's ``result``, or None when anything is off (not HTTP, an error
    answer, a transport failure). Callers then take web3's ordinary path, which raises the
    error they expect; this one never raises."""
    if not isinstance(w3.provider, HTTPProvider):
        return None
    try:
        direct = _direct(w3)
        if direct is None:
            reply = w3.provider.make_request(method, list(params))
        else:
            body = json.dumps({"jsonrpc": "2.0", "id": next(_ids), "method": method,
                               "params": list(params)}).encode()
            reply = json.loads(direct.post(body, resend=method not in _NOT_RESENT))
    except (OSError, ValueError, http.client.HTTPException, requests.RequestException,
            Web3Exception):
        return None
    if not isinstance(reply, dict) or "error" in reply:
        return None
    return reply.get("result")
