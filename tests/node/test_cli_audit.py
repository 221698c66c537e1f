"""``fedledger audit`` end to end on a demo work directory: exit codes, tree, JSON, HTML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.cid import Cid
from ledger.local_store import LocalStore
from node.cli.app import main
from tests.fixtures_audit import AuditWorkdir, audit_workdir, workdir_copy
from tests.pins import AUDIT_ROUND_MODELS

FINAL_MODEL = AUDIT_ROUND_MODELS[1]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> AuditWorkdir:
    return audit_workdir(tmp_path_factory)


def test_clean_model_exits_zero_with_a_tree(workdir: AuditWorkdir,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    state_before = workdir.state.read_bytes()

    code = main(["audit", FINAL_MODEL, "--workdir", str(workdir.path)])

    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == f"✔ audit of {FINAL_MODEL}"
    assert "└─ round 2 ✔" in out
    assert out.rstrip().endswith("✔ all 26 checks passed (task 1, rounds 1..2)")
    assert workdir.state.read_bytes() == state_before  # the audit never writes the workdir


def test_json_output_parses(workdir: AuditWorkdir, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", "1", "--workdir", str(workdir.path), "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["ok"] is True and data["task"] == 1 and data["upto_round"] == 2
    assert len(data["checks"]) == 25  # 5 task-level, 10 per round (2 rounds)
    assert data["lineage"]["rounds"][1]["view"]["model"] == FINAL_MODEL


def test_lying_quorum_replay_exits_one_and_writes_html(workdir: AuditWorkdir, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "audit.html"

    code = main(["audit", "2", "--workdir", str(workdir.path), "--replay", "--html", str(page)])

    out = capsys.readouterr().out
    assert code == 1
    assert "✗ 4 of 29 checks FAILED:" in out
    assert f"  ✗ task 2 round 1: replay.model: recomputed {AUDIT_ROUND_MODELS[0]}, on chain {workdir.lying_models[0]}" in out
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 2
    assert "submissions and excluded updates per round" in html
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no assets


def test_tampered_store_exits_one_naming_the_cid(workdir: AuditWorkdir, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    copy = workdir_copy(workdir, tmp_path / "copy")
    block = LocalStore(copy.store).block_path(Cid.parse(FINAL_MODEL))
    block.write_bytes(block.read_bytes()[:-1] + b"\x00")

    code = main(["audit", FINAL_MODEL, "--workdir", str(copy.path), "--json"])

    data = json.loads(capsys.readouterr().out)
    assert code == 1
    [failure] = data["failures"]
    assert (failure["name"], failure["round"], failure["where"]) == (
        "artifact.model", 2, "task 1 round 2 model")
    assert failure["detail"].startswith(f"{FINAL_MODEL}: CidMismatchError")


@pytest.mark.parametrize(("target", "message"), [
    ("not-a-cid", "InvalidCidError"),
    ("9", "FedMarketUnknownTask"),
    ("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e", "ModelNotFoundError"),
])
def test_an_audit_that_cannot_be_made_exits_one(workdir: AuditWorkdir, target: str, message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", target, "--workdir", str(workdir.path)])

    assert code == 1
    assert message in capsys.readouterr().err


def test_no_deployment_file_exits_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", "1", "--deployment", str(tmp_path / "none.json"), "--store",
                 str(tmp_path)])

    assert code == 1
    assert "no deployment file at" in capsys.readouterr().err
