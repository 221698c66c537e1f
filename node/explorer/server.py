"""Run the explorer: the watcher plus uvicorn on 127.0.0.1, in a background thread.

``Explorer`` is a context manager, so the demo can serve while its task runs and a test can
start one on a free port and always stop it.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import uvicorn

from ledger.market import FedMarket
from ledger.store import ContentStore
from node.errors import NodeError
from node.explorer.app import create_app
from node.explorer.snapshot import Evaluator, SnapshotBuilder
from node.explorer.watcher import ChainWatcher

__all__ = ["Explorer", "ExplorerError", "csv_evaluator", "free_port"]

_START_SECONDS = 15.0


class ExplorerError(NodeError):
    """The explorer could not start (port taken, server did not come up)."""


def csv_evaluator(market: FedMarket, store: ContentStore, path: str | Path) -> Evaluator:
    """Metrics of a task's models on the rows of the CSV at ``path`` (encoded with each task's
    own schema). A task whose schema the rows do not fit, or a model that cannot be fetched,
    gets an ``error`` entry instead (not cached: the next snapshot tries again)."""
    from ledger.cid import Cid
    from ledger.errors import LedgerError
    from ledger.task_view import load_task
    from node.audit.evaluation import evaluate_model, load_eval_data

    data: dict[int, Any] = {}

    def evaluate(task: int, cid: str) -> dict[str, Any]:
        try:
            manifest = load_task(market, store, task).manifest
            if task not in data:
                data[task] = load_eval_data(manifest, path)
            return evaluate_model(manifest, store.get(Cid.parse(cid)), data[task]).as_dict()
        except (NodeError, LedgerError) as err:
            return {"error": f"{type(err).__name__}: {err}"}

    return evaluate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Explorer:
    """The explorer over ``market`` and ``store`` at ``http://127.0.0.1:port``."""

    def __init__(self, market: FedMarket, store: ContentStore, *, port: int = 0,
                 from_block: int = 0, evaluator: Evaluator | None = None,
                 eval_source: str | None = None, interval: float = 0.5) -> None:
        self.port = port or free_port()
        builder = SnapshotBuilder(market, store, from_block=from_block, evaluator=evaluator)
        self.watcher = ChainWatcher(builder, interval=interval)
        app = create_app(self.watcher, eval_source=eval_source)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                timeout_graceful_shutdown=2, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="explorer-http",
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> Self:
        """Read the chain once, then serve; returns once the server accepts connections.

        Raises:
            ExplorerError: the server did not start within 15 s (e.g. the port is taken).
        """
        self.watcher.start()
        self._thread.start()
        deadline = time.monotonic() + _START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.watcher.stop()
                raise ExplorerError(f"the explorer did not start on 127.0.0.1:{self.port}")
            time.sleep(0.05)
        return self

    def follow(self, market: FedMarket, store: ContentStore, *, from_block: int = 0,
               evaluator: Evaluator | None = None) -> None:
        """Read another chain and store from the next block on, still serving (the demo moves
        from its live chain to the saved one without the browser losing its page)."""
        self.watcher.builder = SnapshotBuilder(market, store, from_block=from_block,
                                               evaluator=evaluator)
        self.watcher.poll()  # the pages show the new source as soon as this returns

    def close(self) -> None:
        self.watcher.stop()  # ends every event stream
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
