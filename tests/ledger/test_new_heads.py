"""``NewHeads``: a loop wakes on anvil's blocks (newHeads over WebSocket), and falls back to
its poll interval where there is no WebSocket."""

from __future__ import annotations

import threading
import time

import pytest

from ledger.chain import AnvilChain
from ledger.chain.new_heads import NewHeads, ws_url_of
from ledger.chain.rpc import http_web3

BOUND = 10.0  # no wait below may take longer than this


def _live(heads: NewHeads) -> NewHeads:
    deadline = time.monotonic() + BOUND
    while not heads.live and time.monotonic() < deadline:
        time.sleep(0.01)
    assert heads.live, f"no newHeads subscription on {heads.url}"
    return heads


@pytest.mark.parametrize(("http", "ws"), [
    ("http://127.0.0.1:8545", "ws://127.0.0.1:8545"),
    ("https://rpc.example/v1/key", "wss://rpc.example/v1/key"),
    ("ws://127.0.0.1:1", "ws://127.0.0.1:1"),
])
def test_the_websocket_url_of_an_rpc_url(http: str, ws: str) -> None:
    assert ws_url_of(http) == ws


def test_a_block_wakes_the_waiter(anvil_chain: AnvilChain) -> None:
    with NewHeads(anvil_chain.rpc_url) as heads:
        _live(heads)
        assert heads.wait(0.2) is False  # nothing happened: the timeout
        threading.Timer(0.2, anvil_chain.mine).start()
        assert heads.wait(BOUND) is True
        assert heads.blocks == 1


def test_a_block_that_lands_while_the_caller_is_busy_is_not_missed(
        anvil_chain: AnvilChain) -> None:
    with NewHeads(anvil_chain.rpc_url) as heads:
        _live(heads)
        anvil_chain.mine()
        deadline = time.monotonic() + BOUND
        while heads.blocks < 1 and time.monotonic() < deadline:
            time.sleep(0.01)  # the caller is busy while the block is announced
        assert heads.wait(BOUND) is True  # latched: returns at once
        assert heads.wait(0.1) is False  # and only once


def test_transactions_announce_their_blocks(anvil_chain: AnvilChain) -> None:
    w3 = http_web3(anvil_chain.rpc_url)
    with NewHeads(anvil_chain.rpc_url) as heads:
        _live(heads)
        sender, receiver = anvil_chain.accounts[0], anvil_chain.accounts[1]
        tx = {"to": receiver.address, "value": 1, "gas": 21_000, "chainId": w3.eth.chain_id,
              "nonce": w3.eth.get_transaction_count(sender.address),
              "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1}
        w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
        assert heads.wait(BOUND) is True and heads.blocks == 1


def test_without_a_websocket_the_waiter_is_a_plain_timeout() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with NewHeads(f"http://127.0.0.1:{port}") as heads:
        assert heads.wait(0.3) is False
        assert not heads.live and heads.blocks == 0


def test_without_a_websocket_a_block_filter_wakes_the_waiter(anvil_chain: AnvilChain) -> None:
    with NewHeads(anvil_chain.rpc_url, ws_url="ws://127.0.0.1:1") as heads:
        deadline = time.monotonic() + BOUND
        while not heads.filtering and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heads.filtering and not heads.live
        assert heads.wait(0.2) is False
        threading.Timer(0.2, anvil_chain.mine).start()
        started = time.monotonic()
        assert heads.wait(BOUND) is True
        assert time.monotonic() - started < 2.0  # the filter, not the poll timeout
        assert heads.blocks >= 1
