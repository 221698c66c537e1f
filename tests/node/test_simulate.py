"""The simulator end to end on a tiny task: pinned CIDs, order independence, and the
same update bytes from a participant's own process reading its own shard CSV."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from ledger.manifest import TaskManifest
from node.cli.app import main
from node.data.datasets import builtin_dataset, load_participant_csv, write_shards
from node.data.schemas import SHOPPERS_SCHEMA
from node.learning.task import client_update_bytes, genesis_model_bytes
from node.requester.presets import preset_manifest
from node.seeds import derive_seed
from node.sim.setup import SimulationSetup, build_clients, choose_attackers, partition_rows
from node.sim.simulate import model_cid, run_simulation
from tests.pins import SHOPPERS_FINAL_CID

GENESIS_CID = "bafkreibb5ovkjdvgkmjbjn26bkyxrcgibd7mmce74ckoulzf2zh4tewoeu"
FINAL_CID = SHOPPERS_FINAL_CID


@pytest.fixture(scope="module")
def manifest() -> TaskManifest:
    return preset_manifest("shoppers", rounds=2)


@pytest.fixture(scope="module")
def clients(manifest):
    return build_clients(manifest, SimulationSetup(partition="natural"))


@pytest.fixture(scope="module")
def result(manifest, clients):
    return run_simulation(manifest, clients)


def test_genesis_is_pinned(manifest):
    assert model_cid(genesis_model_bytes(manifest)) == GENESIS_CID


def test_two_rounds_are_pinned(result):
    assert result.genesis_cid == GENESIS_CID
    assert [r["round"] for r in result.rounds] == [1, 2]
    assert result.final_cid == FINAL_CID
    assert result.rounds[-1]["model_cid"] == FINAL_CID
    assert all(r["accepted"] == 9 and r["rejected"] == 0 for r in result.rounds)
    assert result.rounds[0]["scores"]["region-1"] == 3824
    assert result.rounds[-1]["eval"]["n"] == 2466


def test_repeat_and_reversed_clients_give_the_same_cid(manifest, clients, result):
    again = run_simulation(manifest, list(reversed(clients)))
    assert again.final_cid == result.final_cid
    assert again.final_model_bytes == result.final_model_bytes


def test_node_process_reading_its_shard_uploads_the_same_bytes(manifest, clients, tmp_path):
    table, _ = builtin_dataset("shoppers")
    parts = partition_rows(table, SHOPPERS_SCHEMA, SimulationSetup(),
                           derive_seed(manifest.seed, "partition"))
    paths = write_shards(table, parts, tmp_path)
    genesis = genesis_model_bytes(manifest)
    simulated = {c.client_id: client_update_bytes(manifest, genesis, c, c.client_id, 1)
                 for c in clients if c.client_id in ("region-5", "region-8")}
    (tmp_path / "manifest.json").write_bytes(manifest.to_json_bytes())
    script = f"""
import hashlib, pathlib
from ledger.manifest import TaskManifest
from node.data.datasets import load_participant_csv
from node.data.schemas import SHOPPERS_SCHEMA
from node.learning.task import client_update_bytes, genesis_model_bytes
m = TaskManifest.from_json_bytes(pathlib.Path({str(tmp_path / "manifest.json")!r}).read_bytes())
for cid in ("region-5", "region-8"):
    data = load_participant_csv(pathlib.Path({str(tmp_path)!r}) / f"{{cid}}.csv", SHOPPERS_SCHEMA,
                                client_id=cid, test_fraction=m.test_fraction, task_seed=m.seed)
    payload, n = client_update_bytes(m, genesis_model_bytes(m), data, cid, 1)
    print(cid, hashlib.sha256(payload).hexdigest(), n)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120)
    expected = [f"{cid} {hashlib.sha256(p).hexdigest()} {n}" for cid, (p, n) in simulated.items()]
    assert out.stdout.splitlines() == expected
    own = load_participant_csv(paths["region-5"], SHOPPERS_SCHEMA, client_id="region-5",
                               test_fraction=manifest.test_fraction, task_seed=manifest.seed)
    assert client_update_bytes(manifest, genesis, own, "region-5", 1) == simulated["region-5"]


def test_attackers_are_seeded(manifest, clients):
    setup = SimulationSetup(attack="sign_flip", attacker_fraction=0.3)
    ids = [c.client_id for c in clients]
    chosen = choose_attackers(manifest, setup, ids)
    assert len(chosen) == 3 and chosen == choose_attackers(manifest, setup, ids)
    assert choose_attackers(manifest, SimulationSetup(), ids) == {}


def test_sign_flip_breaks_fedavg_but_not_the_median(manifest, clients):
    setup = SimulationSetup(attack="sign_flip", attacker_fraction=0.3)
    attacks = choose_attackers(manifest, setup, [c.client_id for c in clients])
    fedavg = run_simulation(manifest, clients, attacks=attacks)
    median = run_simulation(preset_manifest("shoppers", rounds=2, aggregation="median"),
                            clients, attacks=attacks)
    assert fedavg.rounds[-1]["eval"]["accuracy"] < 0.75
    assert median.rounds[-1]["eval"]["accuracy"] > 0.85


def test_cli_writes_log_and_prints_final_cid(tmp_path, capsys):
    log = tmp_path / "log.json"
    assert main(["simulate", "--preset", "shoppers", "--rounds", "2", "--quiet",
                 "--log", str(log)]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["final_cid"] == FINAL_CID
    written = json.loads(log.read_text())
    assert written["final_cid"] == FINAL_CID and len(written["rounds"]) == 2
    assert TaskManifest.from_dict(written["manifest"]).rounds == 2


def test_cli_csv_task_and_shards(tmp_path, capsys):
    pooled = tmp_path / "pooled.csv"
    pooled.write_text("label,a,c\n" + "".join(
        f"{'yes' if k % 3 else 'no'},{k % 7},{'rg'[k % 2]}\n" for k in range(60)))
    schema = {"label": "label", "classes": ["no", "yes"],
              "numeric": [{"name": "a", "scale": 7.0}],
              "categorical": [{"name": "c", "vocabulary": ["r", "g"]}]}
    task = preset_manifest("shoppers", dataset="csv", data_schema=schema, rounds=1,
                           model_params={"n_features": 3, "n_classes": 2})
    (tmp_path / "task.json").write_bytes(task.to_json_bytes())
    base = ["simulate", "--manifest", str(tmp_path / "task.json"), "--csv", str(pooled),
            "--partition", "iid", "--clients", "3", "--quiet"]
    assert main(base) == 0
    in_process = run_simulation(task, build_clients(task, SimulationSetup(
        partition="iid", n_clients=3, csv_path=str(pooled))))
    assert json.loads(capsys.readouterr().out.strip())["final_cid"] == in_process.final_cid
    assert main([*base, "--write-shards", str(tmp_path / "shards")]) == 0
    assert sorted(p.name for p in (tmp_path / "shards").iterdir()) == [
        "client-00.csv", "client-01.csv", "client-02.csv"]


def test_cli_reports_bad_manifest(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"rounds": 0}')
    assert main(["simulate", "--manifest", str(bad)]) == 1
    assert "manifest field" in capsys.readouterr().err


def test_manifest_rule_names_match_the_aggregators():
    from ledger.manifest import AGGREGATION_RULES
    from node.aggregation.rules import RULE_NAMES

    assert tuple(sorted(AGGREGATION_RULES)) == tuple(sorted(RULE_NAMES))
