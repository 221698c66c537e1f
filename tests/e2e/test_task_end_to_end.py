"""A whole task: real anvil, one OS process per participant, LocalStore or js-ipfs.

Each test drives a small task (3-4 shops, 3 rounds) with the dev-chain time keeper and
checks what only a real multi-process run can show.
"""

from __future__ import annotations

import json

import pytest

from ledger.local_store import LocalStore
from ledger.market_types import Phase
from ledger.unixfs import cid_of
from node.cli.app import main as cli_main
from tests.e2e.conftest import claims, demo_run, simulated_final_cid, submissions_by_round

pytestmark = pytest.mark.timeout(480)


def _final_model(run) -> str:
    lineage = run.market.lineage(run.posted.task)
    return str(lineage[-1].model)


def test_chain_run_equals_simulation_byte_for_byte(tmp_path, capsys):
    workdir = tmp_path / "demo"
    with demo_run(workdir) as run:
        last = run.drive()
        codes = run.wait_nodes()
        assert last.state.phase == Phase.FINISHED
        assert set(codes.values()) == {0}
        assert _final_model(run) == simulated_final_cid(run)
        by_round = submissions_by_round(run)
        assert {r: len(v) for r, v in by_round.items()} == {1: 3, 2: 3, 3: 3}
        paid = claims(run)
        assert len(paid) == 9 and len({(r, a) for r, a, _ in paid}) == 9
        # Every round's budget is paid out in full (no fee, no slash in this run).
        for round_ in (1, 2, 3):
            entry = run.market.finalized_round(run.posted.task, round_)
            assert sum(amount for r, _, amount in paid if r == round_) == entry.budget
        update = run.market.updates(run.posted.task, 2)[1]
        _personal_models_stay_home(run, workdir, capsys)
        _trained_ahead(run, workdir)
    # The work directory alone (saved chain state + store) replays the whole lineage ...
    capsys.readouterr()
    assert cli_main(["audit", "1", "--workdir", str(workdir), "--replay"]) == 0
    assert "all 41 checks passed" in capsys.readouterr().out
    # ... and one flipped byte in one update's block fails the audit, naming it.
    block = LocalStore(workdir / "store").block_path(update.cid)
    data = bytearray(block.read_bytes())
    data[len(data) // 2] ^= 0x01
    block.write_bytes(bytes(data))
    assert cli_main(["audit", "1", "--workdir", str(workdir)]) == 1
    out = capsys.readouterr().out
    assert ": artifact.update: " in out and str(update.cid) in out and "FAILED" in out


def _trained_ahead(run, workdir) -> None:
    """Shops trained rounds ahead (on their own result of the round before, in its challenge
    window, or in the join window) and submitted those very updates: the final model above
    equals the simulator's all the same. Which shop gets to train ahead when depends on how
    the processes share two cores, so only the parents are checked, not who."""
    models = [str(e.model) for e in run.market.lineage(run.posted.task)]
    used = 0
    for client in run.clients:
        log = (workdir / "logs" / f"{client.client_id}.log").read_text()
        for line in log.splitlines():
            if " ahead on parent " in line:
                round_ = int(line.split("trained round ")[1].split()[0])
                assert round_ == 1 or line.endswith(f"ahead on parent {models[round_ - 2]}"), line
            used += line.endswith("samples, trained ahead)")
    assert used > 0


def _personal_models_stay_home(run, workdir, capsys) -> None:
    """Every shop kept a personal model in its own directory, ``node status`` shows its
    metrics beside the global model's, and no byte of it reached the store or the chain."""
    store = LocalStore(workdir / "store")
    w3 = run.market.w3
    logs = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest",
                            "address": run.market.contract.address})
    chain_bytes = b"".join(bytes(log["data"]) + b"".join(bytes(t) for t in log["topics"])
                           for log in logs)
    final = _final_model(run)
    for client in run.clients:
        home = workdir / "nodes" / client.client_id
        blob = (home / "task-1" / "personal-model.safetensors").read_bytes()
        cid = cid_of(blob)
        assert not store.has(cid) and cid.digest not in chain_bytes
        key = json.loads((workdir / "keys" / f"{client.client_id}.json").read_text())
        address = "0x" + key["address"]
        capsys.readouterr()
        assert cli_main(["node", "status", "--workdir", str(workdir), "--task", "1",
                         "--address", address, "--home", str(home), "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["checked_round"] == 3  # it recomputed every round in its window
        personal = status["personal_model"]
        assert personal["global_model"] == final
        assert personal["held_out_rows"] == len(client.test)
        assert personal["personal"]["n"] == personal["global"]["n"] == len(client.test)
        assert personal["personal"] != personal["global"]  # fine-tuned: other predictions


def test_chain_run_on_a_real_ipfs_node(tmp_path, ipfs_node):
    with demo_run(tmp_path / "demo", rounds=2, ipfs=ipfs_node.api_url) as run:
        last = run.drive()
        run.wait_nodes()
        assert last.state.phase == Phase.FINISHED
        assert _final_model(run) == simulated_final_cid(run)


def test_sigkill_mid_round_then_restart_counts_once(tmp_path):
    with demo_run(tmp_path / "demo") as run:
        victim = run.nodes[0]

        def round_two_training(progress) -> bool:
            return progress.state.round == 2 and progress.state.phase == Phase.TRAIN

        run.drive(until=round_two_training, poll_seconds=0.05)
        run.kill(0)
        run.launch(0)
        last = run.drive()
        codes = run.wait_nodes()
        assert last.state.phase == Phase.FINISHED
        assert victim.launches == 2 and set(codes.values()) == {0}
        by_round = submissions_by_round(run)
        assert all(v.count(victim.account.address) == 1 for v in by_round.values())
        victim_claims = [r for r, a, _ in claims(run) if a == victim.account.address]
        assert sorted(victim_claims) == [1, 2, 3]
        # The restarted node retrained the same bits: the chain still equals the simulator.
        assert _final_model(run) == simulated_final_cid(run)


def test_participant_that_never_returns(tmp_path):
    with demo_run(tmp_path / "demo", participants=4) as run:
        gone = run.nodes[3]

        def round_one_done(progress) -> bool:
            return progress.finalized >= 1

        run.drive(until=round_one_done, poll_seconds=0.05)
        run.kill(3)
        last = run.drive()
        run.wait_nodes()
        assert last.state.phase == Phase.FINISHED
        by_round = submissions_by_round(run)
        assert gone.account.address in by_round[1]
        assert gone.account.address not in by_round[3]
        assert len(run.market.lineage(run.posted.task)) == 3


@pytest.mark.parametrize("misbehave", ["garbage", "nan", "wrong-shape"])
def test_malicious_participant_is_excluded(tmp_path, misbehave):
    with demo_run(tmp_path / "demo", rounds=1, launch=False) as run:
        run.nodes[2].misbehave = misbehave
        for index in range(3):
            run.launch(index)
        last = run.drive()
        run.wait_nodes()
        assert last.state.phase == Phase.FINISHED
        assert len(submissions_by_round(run)[1]) == 3
        paid = {a: amount for _, a, amount in claims(run)}
        assert run.nodes[2].account.address not in paid
        assert set(paid) == {run.nodes[0].account.address, run.nodes[1].account.address}
