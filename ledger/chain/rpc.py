"""Any JSON-RPC endpoint as a chain backend, and the HTTP plumbing AnvilChain shares.

Transport failures become ``RpcError`` naming the URL, with an explicit timeout and no
silent retries (a dead node should fail fast, not after a back-off).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ProviderConnectionError, Web3RPCError

from ledger.chain.backend import ChainBackend
from ledger.chain.errors import RpcError, UnsupportedOperation

__all__ = [
    "DEFAULT_TIMEOUT",
    "RpcChain",
    "endpoint_of",
    "http_web3",
    "rpc_call",
    "rpc_errors",
]

DEFAULT_TIMEOUT = 30.0


def _session(url: str) -> requests.Session:
    """A session that reads the proxy and CA settings from the environment once.

    requests otherwise scans every environment variable on each request to find proxies (a
    node making thousands of requests spent about 10% of its CPU there).
    """
    session = requests.Session()
    session.proxies = requests.utils.get_environ_proxies(url)
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.trust_env = False
    return session


def http_web3(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> Web3:
    """A Web3 over HTTP with an explicit timeout and no automatic retries."""
    provider = Web3.HTTPProvider(
        url,
        request_kwargs={"timeout": timeout},
        session=_session(url),
        exception_retry_configuration=None,
    )
    return Web3(provider)


def endpoint_of(w3: Web3) -> str:
    """The URL of ``w3``'s provider, or the provider's class name (in-process chains)."""
    return str(getattr(w3.provider, "endpoint_uri", None) or type(w3.provider).__name__)


@contextmanager
def rpc_errors(url: str) -> Iterator[None]:
    """Turn transport failures and node error answers into ``RpcError`` naming ``url``.

    Raises:
        RpcError: the endpoint was unreachable, timed out, or answered with an error.
    """
    try:
        yield
    except (requests.RequestException, ProviderConnectionError, ConnectionError) as err:
        raise RpcError(f"cannot reach node: {err}", url=url) from err
    except Web3RPCError as err:
        raise RpcError(f"node refused: {err.message}", url=url) from err


def rpc_call(w3: Web3, method: str, params: Sequence[Any], *, url: str | None = None) -> Any:
    """A raw JSON-RPC call; returns the ``result``.

    Raises:
        RpcError: transport failure or an error answer.
    """
    endpoint = url or endpoint_of(w3)
    with rpc_errors(endpoint):
        response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in response:
        raise RpcError(f"{method} failed: {response['error']}", url=endpoint)
    return response.get("result")


class RpcChain(ChainBackend):
    """A chain reached over HTTP JSON-RPC: reads and transactions, no development powers."""

    def __init__(
        self,
        url: str,
        accounts: Sequence[LocalAccount] = (),
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Connect and read the chain id.

        Args:
            url: the node's HTTP JSON-RPC URL.
            accounts: the signing accounts this process may use.
            timeout: seconds per request.

        Raises:
            RpcError: the node does not answer.
        """
        self.rpc_url = url
        self.w3 = http_web3(url, timeout=timeout)
        with rpc_errors(url):
            self.chain_id = int(self.w3.eth.chain_id)
        self.accounts = list(accounts)

    def _unsupported(self, what: str) -> UnsupportedOperation:
        return UnsupportedOperation(f"{what} needs a development chain, not {self.rpc_url}")

    def increase_time(self, seconds: int) -> None:
        """Raises: UnsupportedOperation: always."""
        raise self._unsupported("increase_time")

    def mine(self, blocks: int = 1) -> None:
        """Raises: UnsupportedOperation: always."""
        raise self._unsupported("mine")

    def snapshot(self) -> object:
        """Raises: UnsupportedOperation: always."""
        raise self._unsupported("snapshot")

    def _revert(self, snapshot: object) -> None:
        raise self._unsupported("revert")
