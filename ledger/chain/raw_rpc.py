"""One JSON-RPC request straight through web3's HTTP provider, for the hot paths.

web3's ``w3.eth.*`` methods and contract layer format every request and reply (several times
the cost of the request itself on a node reading each block). The fast paths
(``ledger.chain.abi_codec`` callers, fees, estimates, sends, timestamps) send the request raw
and, on anything unexpected, go back to web3's method, which raises the usual error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3Exception

__all__ = ["raw_result"]


def raw_result(w3: Web3, method: str, params: Sequence[Any]) -> Any:
    """A JSON-RPC request straight through an HTTP provider: its ``result``, or None when
    anything is off (not HTTP, an error answer, a transport failure). Callers then take
    web3's ordinary path, which raises the error they expect; this one never raises."""
    if not isinstance(w3.provider, HTTPProvider):
        return None
    try:
        reply = w3.provider.make_request(method, list(params))
    except (OSError, ValueError, requests.RequestException, Web3Exception):
        return None
    return None if "error" in reply else reply.get("result")
