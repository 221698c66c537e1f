"""Wake up when the chain has a new block, instead of on a timer.

``NewHeads`` subscribes to ``newHeads`` (``eth_subscribe`` over WebSocket; anvil, geth, reth
and most providers serve it on their WebSocket endpoint, anvil on the same port as HTTP) in a
background thread and sets an event for every block announced. A loop that used to sleep a fixed
poll interval between reads calls ``wait(poll)`` instead: it returns as soon as a block lands,
and after ``poll`` seconds at the latest. That timeout is the fallback. A chain without
WebSocket, a dropped connection, or a frozen node means the loop simply polls as before. The
thread reconnects once a second, so a chain that comes back is followed again.

Nothing read from the socket is trusted beyond "something changed": the caller reads the
chain itself after waking.
"""

from __future__ import annotations

import json
import threading
from types import TracebackType
from typing import Self

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

__all__ = ["NewHeads", "ws_url_of"]

_CONNECT_SECONDS = 2.0
_RECONNECT_SECONDS = 1.0
_RECV_SECONDS = 0.5


def ws_url_of(rpc_url: str) -> str:
    """The WebSocket URL serving the same node: ``http://h:p/x`` -> ``ws://h:p/x``."""
    if rpc_url.startswith("https://"):
        return "wss://" + rpc_url[len("https://"):]
    if rpc_url.startswith("http://"):
        return "ws://" + rpc_url[len("http://"):]
    return rpc_url


class NewHeads:
    """Block announcements from ``rpc_url``'s WebSocket endpoint (see the module docstring).

    Attributes:
        live: whether the subscription is up right now.
        blocks: how many announcements arrived (for tests and benchmarks).
    """

    def __init__(self, rpc_url: str) -> None:
        self.url = ws_url_of(rpc_url)
        self.live = False
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
                pass  # no WebSocket here, or the node went away: wait() falls back to polling
            self.live = False
            self._stop.wait(_RECONNECT_SECONDS)

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
