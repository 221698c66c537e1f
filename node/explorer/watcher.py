"""Follows the chain for the explorer: a new snapshot each time a block lands.

One thread asks the chain for its latest block every ``interval`` seconds (one cheap call,
and never sooner than twice the last rebuild took) and rebuilds the snapshot only when the
block changed, so a page and the event stream of
every open browser read memory, not the chain. A chain that stops answering keeps the last
snapshot on screen with the error beside it; the watcher keeps trying.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from ledger.errors import LedgerError
from node.explorer.snapshot import Snapshot, SnapshotBuilder

__all__ = ["ChainWatcher"]


class ChainWatcher:
    """``snapshot`` is always the newest complete one; ``version`` grows with every change."""

    def __init__(self, builder: SnapshotBuilder, *, interval: float = 0.5) -> None:
        self.builder, self.interval = builder, interval
        self.snapshot = Snapshot()
        self._changed = threading.Condition()
        self._polling = threading.Lock()  # the thread and a caller's poll() never interleave
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="explorer-watcher", daemon=True)

    @property
    def version(self) -> int:
        return self.snapshot.version

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def start(self) -> ChainWatcher:
        """Read the chain once (so the first page is never empty), then follow it."""
        self.poll()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def wait_change(self, seen: int, timeout: float) -> int:
        """Block until ``version`` differs from ``seen`` (or ``timeout`` s pass); the version."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != seen or self.stopped, timeout)
        return self.version

    def poll(self) -> bool:
        """Rebuild if the chain moved; whether the snapshot changed."""
        with self._polling:
            return self._poll()

    def _poll(self) -> bool:
        current = self.snapshot
        try:
            latest = self.builder.market.w3.eth.get_block("latest")
            block, now = int(latest["number"]), int(latest["timestamp"])
            if block == current.block and current.error is None and current.version:
                return False
            fresh = self.builder.build(block, now)
        except (LedgerError, OSError, ValueError) as err:
            message = f"cannot read the chain: {type(err).__name__}: {err}"
            if current.error == message:
                return False
            fresh = replace(current, error=message)
        fresh.version = current.version + 1
        with self._changed:
            self.snapshot = fresh
            self._changed.notify_all()
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.poll()
            spent = time.monotonic() - started
            # At least twice the last rebuild's time between polls: a big deployment slows
            # the page's updates instead of taking a whole core (in the demo the explorer
            # shares its process with the time keeper).
            self._stop.wait(max(self.interval - spent, 2 * spent, 0.05))
