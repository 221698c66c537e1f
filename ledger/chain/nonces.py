"""Per-sender nonce tracking, so a transaction costs no ``eth_getTransactionCount`` round trip.

One tracker per ``Web3`` object (weakly keyed). The first transaction of a sender asks the
node for its pending count; each later one takes the next number. Anything that can move
the chain's nonces behind our back (a snapshot revert, a failed send) must ``forget`` or
``reset`` so the next transaction asks the node again.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, cast

from web3 import Web3

if TYPE_CHECKING:
    from eth_typing import ChecksumAddress

__all__ = ["NonceTracker", "tracker_for"]


class NonceTracker:
    """Hands out consecutive nonces per sender address; thread-safe."""

    def __init__(self, w3: Web3) -> None:
        self._w3 = weakref.ref(w3)
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, address: str) -> int:
        """The nonce to use now for ``address``; the following call returns one more."""
        with self._lock:
            if address not in self._next:
                w3 = self._w3()
                assert w3 is not None, "Web3 object collected while its tracker is in use"
                self._next[address] = w3.eth.get_transaction_count(cast("ChecksumAddress", address), "pending")
            nonce = self._next[address]
            self._next[address] = nonce + 1
            return nonce

    def forget(self, address: str) -> None:
        """Re-read ``address``'s nonce from the node next time (after a failed send)."""
        with self._lock:
            self._next.pop(address, None)

    def reset(self) -> None:
        """Re-read every nonce from the node next time (after a snapshot revert)."""
        with self._lock:
            self._next.clear()


_trackers: weakref.WeakKeyDictionary[Web3, NonceTracker] = weakref.WeakKeyDictionary()
_trackers_lock = threading.Lock()


def tracker_for(w3: Web3) -> NonceTracker:
    """The one tracker of ``w3`` (created on first use)."""
    with _trackers_lock:
        tracker = _trackers.get(w3)
        if tracker is None:
            tracker = _trackers[w3] = NonceTracker(w3)
        return tracker
