"""``task list``, ``node status``, ``model export`` and ``predict`` on a finished work directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ledger.lineage import read_lineage
from node.cli.app import main
from node.data.datasets import read_csv_table
from node.data.schemas import SHOPPERS_FILE
from node.requester.presets import preset_manifest
from tests.fixtures_audit import (
    HONEST_TASK,
    LYING_TASK,
    PARTICIPANTS,
    ROUNDS,
    AuditWorkdir,
    audit_workdir,
    opened_chain,
)
from tests.pins import AUDIT_ROUND_MODELS

FINAL_MODEL = AUDIT_ROUND_MODELS[1]
SHOPPERS = Path(__file__).parents[2] / "node" / "data" / SHOPPERS_FILE


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> AuditWorkdir:
    return audit_workdir(tmp_path_factory)


def _json(capsys, argv: list[str]):
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_task_list_json_names_both_finished_tasks(workdir: AuditWorkdir, capsys) -> None:
    rows = _json(capsys, ["task", "list", "--workdir", str(workdir.path), "--json"])
    assert [r["task"] for r in rows] == [HONEST_TASK, LYING_TASK]
    for r in rows:
        assert (r["phase"], r["rounds_done"], r["rounds"], r["members"]) == \
            ("FINISHED", ROUNDS, ROUNDS, PARTICIPANTS)
        assert (r["bounty"], r["bounty_text"], r["privacy"], r["dp"], r["open"]) == \
            (10**18, "1 ETH", "open", False, False)
    assert _json(capsys, ["task", "list", "--workdir", str(workdir.path), "--json",
                          "--open"]) == []


def test_node_status_matches_the_chain(workdir: AuditWorkdir, tmp_path: Path, capsys) -> None:
    with opened_chain(workdir, tmp_path / "chain") as (_, market, _deployment):
        lineage = read_lineage(market, HONEST_TASK)
        member = market.members(HONEST_TASK)[0]
    claimed = sum(c.amount for r in lineage.rounds for c in r.claims if c.account == member)
    status = _json(capsys, ["node", "status", "--workdir", str(workdir.path), "--task",
                            str(HONEST_TASK), "--address", member, "--json"])
    assert status["is_member"] and status["account"] == member
    assert status["submitted_rounds"] == list(range(1, ROUNDS + 1))
    assert status["claimed"] == claimed > 0 and status["claimable"] == 0
    assert status["slashed"] == 0 and status["votes"] == status["votes_agreeing"]
    stranger = _json(capsys, ["node", "status", "--workdir", str(workdir.path), "--task",
                              str(HONEST_TASK), "--address", "0x" + "12" * 20, "--json"])
    assert not stranger["is_member"] and stranger["submitted_rounds"] == []


def test_onnx_and_torchscript_predict_like_safetensors(workdir: AuditWorkdir, tmp_path: Path,
                                                      capsys) -> None:
    import onnxruntime
    from safetensors.torch import load_file

    from node.data.preprocess import encode_rows
    from node.data.schemas import schema_of
    from node.learning.task import model_of

    for fmt in ("safetensors", "onnx", "torchscript"):
        assert main(["model", "export", FINAL_MODEL, "--format", fmt, "-o",
                     str(tmp_path / f"m.{fmt}"), "--workdir", str(workdir.path)]) == 0
    card = (tmp_path / "m.md").read_text()
    assert FINAL_MODEL in card and AUDIT_ROUND_MODELS[0] in card and "Not evaluated" in card
    table = read_csv_table(SHOPPERS)
    manifest = preset_manifest("shoppers", rounds=ROUNDS)  # the fixture's task
    x, _ = encode_rows(table.header, table.rows, schema_of(manifest))
    model = model_of(manifest)
    model.load_state_dict(load_file(tmp_path / "m.safetensors"))
    expected = model.eval()(torch.from_numpy(x)).detach().numpy()
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    onnx_logits = session.run(None, {"features": x})[0]
    assert abs(onnx_logits - expected).max() < 1e-5
    traced = torch.jit.load(str(tmp_path / "m.torchscript"))
    assert abs(traced(torch.from_numpy(x)).detach().numpy() - expected).max() < 1e-5
