"""AnvilChain: discovery, start/stop, state across restarts; RpcChain against it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

import ledger.chain.anvil as anvil_module
from ledger.chain import (
    AnvilChain,
    AnvilNotFoundError,
    AnvilStartError,
    Contract,
    RpcChain,
    RpcError,
    UnsupportedOperation,
    find_anvil,
)


def test_find_anvil_uses_npm_binary_when_not_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEDLEDGER_ANVIL", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent-bin")
    assert find_anvil() == anvil_module._NPM_ANVIL


def test_missing_anvil_names_every_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FEDLEDGER_ANVIL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    missing = tmp_path / "node_modules" / "anvil"
    monkeypatch.setattr(anvil_module, "_NPM_ANVIL", missing)
    with pytest.raises(AnvilNotFoundError) as info:
        AnvilChain()
    assert info.value.tried == ["anvil on $PATH", str(missing)]
    assert str(missing) in str(info.value) and "make setup" in str(info.value)


def test_env_override_is_final(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FEDLEDGER_ANVIL", str(tmp_path / "my-anvil"))
    with pytest.raises(AnvilNotFoundError, match="my-anvil"):
        find_anvil()


def test_explicit_binary_missing(tmp_path: Path) -> None:
    with pytest.raises(AnvilNotFoundError, match="nope"):
        AnvilChain(binary=tmp_path / "nope")


def test_binary_that_exits_is_a_start_error(tmp_path: Path) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\necho 'error: no such hardfork' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(AnvilStartError, match=r"code 3:\nerror: no such hardfork"):
        AnvilChain(binary=fake)


def test_state_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "chain.json"
    with AnvilChain(state_file=state, accounts=2) as chain:
        alice = chain.accounts[0]
        probe = Contract.deploy(chain, "RevertProbe", 100, sender=alice)
        probe.transact("setValue", 77, sender=alice)
        height = chain.block_number()
    assert not chain.running
    assert state.stat().st_size > 0  # anvil wrote it on SIGTERM

    with AnvilChain(state_file=state, accounts=2) as chain:
        again = Contract.at(chain, "RevertProbe", probe.address)
        assert again.call("value") == 77
        assert chain.block_number() == height
        again.transact("setValue", 78, sender=alice)  # nonces carried over too
        assert again.call("value") == 78


def test_close_is_idempotent_and_frees_the_port() -> None:
    chain = AnvilChain(accounts=1)
    url = chain.rpc_url
    assert chain.running and url.startswith("http://127.0.0.1:")
    chain.close()
    chain.close()
    assert not chain.running
    with pytest.raises(RpcError, match=url):
        RpcChain(url, timeout=2)


def test_dev_accounts_and_balances(anvil_chain: AnvilChain) -> None:
    assert anvil_chain.chain_id == 31337
    assert len(anvil_chain.accounts) == 10
    assert anvil_chain.accounts[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert anvil_chain.w3.eth.get_balance(anvil_chain.accounts[9].address) == 10_000 * 10**18


def test_rpc_chain_reads_but_has_no_dev_powers(anvil_chain: AnvilChain) -> None:
    alice = anvil_chain.accounts[0]
    probe = Contract.deploy(anvil_chain, "RevertProbe", 5, sender=alice)
    remote = RpcChain(anvil_chain.rpc_url, accounts=[alice])
    assert remote.chain_id == 31337
    assert Contract.at(remote, "RevertProbe", probe.address).call("limit") == 5
    for power in (remote.snapshot, remote.mine, lambda: remote.increase_time(5)):
        with pytest.raises(UnsupportedOperation, match=anvil_chain.rpc_url):
            power()


def test_port_in_use_is_a_start_error(anvil_chain: AnvilChain) -> None:
    with pytest.raises(AnvilStartError):
        AnvilChain(port=anvil_chain.port, startup_timeout=5)
