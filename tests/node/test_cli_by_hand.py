"""The reading commands on a deployment made by hand (``chain up`` + ``deploy`` + ``task
create``), not a demo work directory: ``task list``, ``node status`` and ``explorer``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import torch

from node.cli.app import main
from node.explorer.server import free_port
from tests.node.test_cli_basics import _chain_up

# anvil's dev accounts [0] (the requester here) and [1] (a stranger to the task)
DEV_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEV_ADDRESS_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
JOIN_SECONDS = 600


@pytest.fixture
def by_hand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> list[str]:
    chain, url = _chain_up(tmp_path / "chain.json")
    try:
        monkeypatch.setenv("FEDLEDGER_PRIVATE_KEY", DEV_KEY_0)
        ledger = ["--deployment", str(tmp_path / "deployment.json"),
                  "--store", str(tmp_path / "store")]
        assert main(["deploy", "--rpc", url, "--out", ledger[1]]) == 0
        assert main(["task", "create", *ledger, "--rounds", "2", "--bounty-eth", "2",
                     "--join-seconds", str(JOIN_SECONDS)]) == 0
        monkeypatch.delenv("FEDLEDGER_PRIVATE_KEY")
        capsys.readouterr()
        yield ledger
    finally:
        chain.send_signal(signal.SIGINT)
        chain.wait(timeout=30)


def _json(capsys, argv: list[str]):
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_task_list_shows_the_open_task(by_hand: list[str], capsys) -> None:
    for extra in ([], ["--open"]):
        (row,) = _json(capsys, ["task", "list", *by_hand, "--json", *extra])
        assert (row["task"], row["bounty"], row["bounty_text"], row["phase"], row["members"],
                row["rounds"], row["rounds_done"], row["privacy"], row["open"]) == \
            (1, 2 * 10**18, "2 ETH", "PENDING", 0, 2, 0, "open", True)
        assert 0 < row["join_seconds_left"] <= JOIN_SECONDS


def test_node_status_of_a_stranger(by_hand: list[str], capsys) -> None:
    status = _json(capsys, ["node", "status", *by_hand, "--task", "1", "--address",
                            DEV_ADDRESS_1, "--json"])
    assert status["account"] == DEV_ADDRESS_1 and not status["is_member"]
    assert status["submitted_rounds"] == [] and status["personal_model"] is None


def test_the_explorer_command_serves_the_task(by_hand: list[str]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "explorer", *by_hand, "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once the server accepts connections
        assert line.startswith(f"explorer: http://127.0.0.1:{port}/"), line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/tasks", timeout=20) as reply:
            (task,) = json.load(reply)["tasks"]
        assert (task["task"], task["bounty_text"], task["phase"]) == (1, "2 ETH", "PENDING")
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


def test_model_export_and_predict_of_the_posted_genesis(by_hand: list[str], tmp_path: Path,
                                                        capsys) -> None:
    from safetensors.torch import load_file

    from ledger.chain.rpc import http_web3
    from ledger.deployment import Deployment
    from ledger.lineage import read_lineage
    from ledger.local_store import LocalStore
    from ledger.market import FedMarket
    from node.data.datasets import read_csv_table, write_csv_table
    from node.data.preprocess import encode_features
    from node.data.schemas import SHOPPERS_FILE, schema_of
    from node.learning.task import model_of
    from node.requester.presets import preset_manifest

    deployment = Deployment.load(Path(by_hand[1]))
    market = FedMarket.at(http_web3(deployment.rpc_url), deployment.market)
    genesis = str(read_lineage(market, 1).genesis)
    assert LocalStore(Path(by_hand[3])).has(read_lineage(market, 1).genesis)
    out = tmp_path / "genesis.safetensors"
    assert main(["model", "export", genesis, "--format", "safetensors", "-o", str(out),
                 *by_hand]) == 0
    assert genesis in (tmp_path / "genesis.md").read_text()  # the model card beside it
    table = read_csv_table(Path(__file__).parents[2] / "node" / "data" / SHOPPERS_FILE)
    sample = tmp_path / "sessions.csv"
    write_csv_table(sample, table.take(list(range(40))))
    scored = _json(capsys, ["predict", genesis, "--data", str(sample), "--json", *by_hand])
    assert (scored["model"], scored["task"], scored["round"], scored["rows"]) == \
        (genesis, 1, 0, 40)
    manifest = preset_manifest("shoppers", rounds=2)
    model = model_of(manifest)
    model.load_state_dict(load_file(out))
    x = encode_features(table.header, table.take(list(range(40))).rows, schema_of(manifest))
    expected = torch.sigmoid(model.eval()(torch.from_numpy(x))).squeeze(1).tolist()
    assert max(abs(a - b) for a, b in zip(scored["propensity"], expected, strict=True)) < 1e-6
