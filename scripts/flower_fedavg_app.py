"""The benchmark task as a Flower app (ServerApp + ClientApp), for ``scripts/bench_round.py``.

The same task as fedledger's ``shoppers`` preset: the same model built with the same seed,
the same natural split (one ``Region`` per participant), the same local training
(``node.learning.train.train_local`` with ``derive_seed(seed, "train", round, client_id)``) and
the same final evaluation (``node.learning.task.evaluate_clients``). Only the coordination
differs: Flower's message-based ``FedAvg`` over its SuperLink, aggregating weights in
float32 numpy instead of fedledger's float64 deltas, so the result equals fedledger's to
float rounding, not bit for bit.

``bench_round.py`` copies this file into a generated Flower app directory (deployment
engine) or imports it (simulation engine). Run configuration keys:

* ``rounds``: number of rounds;
* ``participants``: how many shops take part (the first N of the natural split);
* ``result-file``: where the ServerApp writes its JSON (round end times, final metrics).

Flower's Python simulation entry point (``flwr.simulation.run_simulation``) passes no run
configuration, so each key falls back to the environment variable
``FEDLEDGER_BENCH_<KEY>`` (upper case, ``-`` as ``_``).
"""

from __future__ import annotations

import json
import os
import time
from functools import cache
from pathlib import Path

from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg

from node.codec.safetensors import encode_tensors
from node.data.datasets import ClientData
from node.learning.task import evaluate_clients, hyper_of, model_of
from node.learning.train import train_local
from node.requester.presets import preset_manifest
from node.seeds import derive_seed
from node.sim.setup import SimulationSetup, build_clients

PRESET = "shoppers"


def _config(context: Context, key: str) -> str:
    if key in context.run_config:
        return str(context.run_config[key])
    return os.environ["FEDLEDGER_BENCH_" + key.upper().replace("-", "_")]


@cache
def _manifest(rounds: int):
    return preset_manifest(PRESET, rounds=rounds)


@cache
def _clients(rounds: int, participants: int) -> tuple[ClientData, ...]:
    clients = build_clients(_manifest(rounds), SimulationSetup(partition="natural",
                                                               column="Region"))
    return tuple(clients[:participants])


client_app = ClientApp()


@client_app.train()
def train(msg: Message, context: Context) -> Message:
    """One participant's local round: fedledger's own training function and seed."""
    rounds = int(_config(context, "rounds"))
    participants = int(_config(context, "participants"))
    client = _clients(rounds, participants)[int(context.node_config["partition-id"])]
    manifest = _manifest(rounds)
    server_round = int(msg.content["config"]["server-round"])
    parent = msg.content["arrays"].to_torch_state_dict()
    model = model_of(manifest)
    result = train_local(model, parent, client.train, hyper_of(manifest),
                         derive_seed(manifest.seed, "train", server_round, client.client_id))
    reply = RecordDict({
        "arrays": ArrayRecord(model.state_dict()),
        "metrics": MetricRecord({"num-examples": result.num_samples,
                                 "train_loss": float(result.metrics["train_loss"])}),
    })
    return Message(content=reply, reply_to=msg)


server_app = ServerApp()


@server_app.main()
def main(grid: Grid, context: Context) -> None:
    """FedAvg over every participant each round; timestamps each round's end."""
    rounds = int(_config(context, "rounds"))
    participants = int(_config(context, "participants"))
    result_file = Path(_config(context, "result-file"))
    manifest = _manifest(rounds)
    ends: list[float] = []
    final: dict = {}

    def on_round(server_round: int, arrays: ArrayRecord) -> MetricRecord | None:
        ends.append(time.time())  # round 0 = start; wall clock: compared across processes
        if server_round < rounds:
            return None
        weights = arrays.to_torch_state_dict()
        metrics = evaluate_clients(manifest, encode_tensors(weights),
                                   _clients(rounds, participants))
        final.update(metrics)
        return MetricRecord({"accuracy": metrics["accuracy"], "auc": metrics["auc"]})

    strategy = FedAvg(fraction_train=1.0, fraction_evaluate=0.0,
                      min_train_nodes=participants, min_available_nodes=participants)
    strategy.start(grid=grid, initial_arrays=ArrayRecord(model_of(manifest).state_dict()),
                   num_rounds=rounds, evaluate_fn=on_round)
    partial = result_file.with_suffix(".partial")  # readers poll for the final name
    partial.write_text(json.dumps({"round_ends": ends, "final": final}))
    partial.replace(result_file)
