"""The personal model a participant keeps when a task ends (the manifest's
``personalization``): fine-tuned from the last finalized global model on the node's own rows,
written to the node's own directory, never to the store or the chain.

Two files in ``HOME/task-<id>/``:

* ``personal-model.safetensors``: the personal weights (absent with ``mode: none``);
* ``personal-model.json``: which global model it came from, the settings, and the global and
  the personal model's metrics on the same held-out local rows (``fedledger node status``
  shows them).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from ledger.market import FedMarket
from ledger.store import ContentStore
from ledger.task_view import TaskView
from node.codec.safetensors import encode_tensors
from node.data.datasets import ClientData
from node.learning.personalize import personalize
from node.learning.task import model_weights
from node.runtime.node_home import task_home
from node.seeds import derive_seed

__all__ = ["MODEL_FILE", "REPORT_FILE", "keep_personal_model", "read_report", "task_home"]

MODEL_FILE = "personal-model.safetensors"
REPORT_FILE = "personal-model.json"


def keep_personal_model(market: FedMarket, store: ContentStore, view: TaskView,
                        data: ClientData, client_id: str, home: str | Path) -> dict[str, Any]:
    """Builds and writes the personal model of ``client_id``; returns the report written.

    With no finalized round there is nothing to personalize: the report says so.

    Raises:
        ContentError: the final global model cannot be fetched.
        TrainError: no training or held-out rows.
    """
    directory = task_home(home, view.task)
    directory.mkdir(parents=True, exist_ok=True)
    settings = view.manifest.personalization
    report: dict[str, Any] = {"task": view.task, "client_id": client_id,
                              "settings": dataclasses.asdict(settings)}
    lineage = market.lineage(view.task)
    if not lineage:
        report["skipped"] = "no finalized round: no global model to personalize"
    else:
        final = lineage[-1]
        weights = model_weights(view.manifest, store.get(final.model))
        result = personalize(view.manifest, weights, data,
                             seed=derive_seed(view.manifest.seed, "personalize", client_id))
        report.update({
            "global_model": str(final.model), "round": final.round,
            "train_rows": len(data.train), "held_out_rows": len(data.test),
            "global": result.global_metrics.as_dict(),
            "personal": result.personal_metrics.as_dict(),
        })
        if settings.mode != "none":
            model_file = directory / MODEL_FILE
            model_file.write_bytes(encode_tensors(result.state))
            report["model_file"] = str(model_file)
    (directory / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    return report


def read_report(home: str | Path, task: int) -> dict[str, Any] | None:
    """The report :func:`keep_personal_model` wrote, or None if there is none yet."""
    path = task_home(home, task) / REPORT_FILE
    return json.loads(path.read_text()) if path.is_file() else None
