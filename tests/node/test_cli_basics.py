"""The CLI skeleton: help, store put/get round trip and refusal, chain up with saved state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.local_store import LocalStore
from node.cli.app import main

HELLO_CID = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "deploy", "task", "node", "audit", "explorer", "model", "predict",
                    "simulate", "chain", "store", "key"):
        assert f"    {command} " in out


def test_store_put_then_get(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "hello.txt"
    source.write_bytes(b"hello world\n")
    store = str(tmp_path / "store")
    assert main(["store", "--store", store, "put", str(source)]) == 0
    assert capsys.readouterr().out.strip() == HELLO_CID
    out = tmp_path / "out.txt"
    assert main(["store", "--store", store, "get", HELLO_CID, "-o", str(out)]) == 0
    assert out.read_bytes() == b"hello world\n"


def test_store_get_refuses_corrupt_content(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    store = LocalStore(tmp_path / "store")
    cid = store.put(b"hello world\n")
    store.block_path(cid).write_bytes(b"hello world!")
    assert main(["store", "--store", str(tmp_path / "store"), "get", str(cid)]) == 1
    err = capsys.readouterr().err
    assert str(cid) in err and "corrupt or forged" in err


def test_store_get_of_a_malformed_cid_is_one_clear_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "--store", str(tmp_path), "get", "not-a-cid"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fedledger: ") and err.count("\n") == 1


def _chain_up(state: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "node.cli.app", "chain", "up", "--state", str(state),
         "--block-time", "0"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("RPC URL"), first
    return process, first.split()[-1]


def test_chain_up_prints_accounts_and_keeps_state_across_restarts(tmp_path: Path) -> None:
    from ledger.chain.rpc import http_web3

    state = tmp_path / "chain.json"
    process, url = _chain_up(state)
    w3 = http_web3(url)
    w3.provider.make_request("anvil_mine", ["0x5", "0x0"])
    height = w3.eth.block_number
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert state.exists()
    process, url = _chain_up(state)
    try:
        assert http_web3(url).eth.block_number == height == 5
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)

