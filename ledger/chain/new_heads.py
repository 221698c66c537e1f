"""Wake up when the chain has a new block, instead of on a timer.

``NewHeads`` subscribes to ``newHeads`` (``eth_subscribe`` over WebSocket; anvil, geth, reth
and most providers serve it on their WebSocket endpoint, anvil on the same port as HTTP) in a
background thread and sets an event for every block announced. A loop that used to sleep a fixed
poll interval between reads calls ``wait(poll)`` instead: it returns as soon as a block lands,
and after ``poll`` seconds at the latest. Where the WebSocket is missing or drops, the thread
watches a block filter instead (``eth_newBlockFilter``, ``eth_getFilterChanges`` every 50 ms
over HTTP: one tiny call, where a node's own step is a full read), and tries the WebSocket
again each second. Where neither works, ``wait``'s timeout is the fallback: the loop polls as
before.

Nothing read from the socket is trusted beyond "something changed": the caller reads the
chain itself after waking.
"""

from __future__ import annotations

import json
import threading
import time
from types import TracebackType
from typing import Self

from web3.exceptions import Web3Exception
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from ledger.chain.rpc import http_web3

__all__ = ["NewHeads", "ws_url_of"]

_CONNECT_SECONDS = 2.0
_RECONNECT_SECONDS = 1.0
_RECV_SECONDS = 0.5
_FILTER_POLL_SECONDS = 0.05


def ws_url_of(rpc_url: str) -> str:
    """The WebSocket URL serving the same node: ``http://h:p/x`` -> ``ws://h:p/x``."""
    if rpc_url.startswith("https://"):
        return "wss://" + rpc_url[len("https://"):]
    if rpc_url.startswith("http://"):
        return "ws://" + rpc_url[len("http://"):]
    return rpc_url


class NewHeads:
    """Block announcements from ``rpc_url``'s WebSocket endpoint (see the module docstring).

    Args:
        rpc_url: the node's HTTP endpoint (its WebSocket is derived from it).
        ws_url: the WebSocket endpoint, when it is not ``rpc_url``'s.

    Attributes:
        live: whether the subscription is up right now.
        filtering: whether the block-filter fallback is watching right now.
        blocks: how many announcements arrived (for tests and benchmarks).
    """

    def __init__(self, rpc_url: str, *, ws_url: str | None = None) -> None:
        self.rpc_url = rpc_url
        self.url = ws_url or ws_url_of(rpc_url)
        self.live = False
        self.filtering = False
        self.blocks = 0
        self._block = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="new-heads", daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Until a block announced since the last call (or one arriving now), at most
        ``timeout`` s; True if a block came. A block announced while the caller was busy
        counts: the next call returns at once."""
        came = self._block.wait(timeout)
        self._block.clear()
        return came

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=_RECV_SECONDS + _CONNECT_SECONDS + 1)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                self._subscribed()
            except (OSError, TimeoutError, ValueError, WebSocketException):
                pass  # no WebSocket here, or the node went away
            self.live = False
            self._filtered(_RECONNECT_SECONDS)

    def _filtered(self, seconds: float) -> None:
        """Watch a block filter for ``seconds`` (or just wait, where filters fail too)."""
        until = time.monotonic() + seconds
        try:
            w3 = http_web3(self.rpc_url, timeout=_CONNECT_SECONDS)
            block_filter = w3.eth.filter("latest")
            self.filtering = True
            while not self._stop.is_set() and time.monotonic() < until:
                if block_filter.get_new_entries():
                    self.blocks += 1
                    self._block.set()
                self._stop.wait(_FILTER_POLL_SECONDS)
        except (OSError, ValueError, Web3Exception):
            self.filtering = False  # no filters either: wait() falls back to its timeout
        self.filtering = False
        self._stop.wait(max(0.0, until - time.monotonic()))

    def _subscribed(self) -> None:
        with connect(self.url, open_timeout=_CONNECT_SECONDS,
                     close_timeout=_RECV_SECONDS) as socket:
            socket.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                                    "params": ["newHeads"]}))
            reply = json.loads(socket.recv(timeout=_CONNECT_SECONDS))
            if "result" not in reply:
                raise ValueError(f"newHeads subscription refused: {reply.get('error')}")
            self.live = True
            while not self._stop.is_set():
                try:
                    socket.recv(timeout=_RECV_SECONDS)
                except TimeoutError:
                    continue
                self.blocks += 1
                self._block.set()
