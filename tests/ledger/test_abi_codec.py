"""The fast path (``ledger.chain.abi_codec`` + raw requests) returns exactly what web3 returns.

Every view of a live market with a played round, and every event it emitted, read both ways
on anvil: same values, same types, container for container. Then the cases the fast path must
hand to web3: reverts, a range past the head, arguments eth_abi refuses, unknown names.
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger.chain.abi_codec import ContractCodec, EventCodec, Unsupported
from ledger.chain.contract import Contract
from ledger.chain.errors import ContractUsageError
from ledger.market_types import Phase
from tests.contracts.market_scenario import default_params, make_env, play_round, reverts


def _same(a: Any, b: Any) -> None:
    """Equal, and of the same type all the way down."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _same(a[key], b[key])
    else:
        assert a == b


def _argument(name: str, type_str: str, env) -> Any:
    values = {"task": env.task, "round": 1, "round_": 1, "attempt": 0,
              "account": env.members[0].address, "member": env.members[1].address,
              "participant": env.members[2].address}
    if name in values:
        return values[name]
    raise LookupError(f"{name}: {type_str}")


@pytest.fixture
def played(anvil_chain):
    env = make_env(anvil_chain, 4, default_params(rounds=2))
    play_round(env)
    fast = env.market.contract
    slow = Contract(fast.w3, fast.artifact, fast.address, fast=False)
    return env, fast, slow


def test_every_view_reads_the_same_both_ways(played):
    env, fast, slow = played
    compared = []
    for entry in fast.abi:
        if entry.get("type") != "function" or entry.get("stateMutability") not in ("view", "pure"):
            continue
        try:
            args = [_argument(i["name"], i["type"], env) for i in entry["inputs"]]
        except LookupError:
            continue
        try:
            expected = slow.call(entry["name"], *args)
        except Exception as err:  # noqa: BLE001 - the fast path must raise the same
            with pytest.raises(type(err)):
                fast.call(entry["name"], *args)
            continue
        _same(fast.call(entry["name"], *args), expected)
        compared.append(entry["name"])
    # the node's and the audit's reads are among them (a rename would silently skip them)
    assert {"roundState", "nodeState", "member", "members", "committee", "taskInfo",
            "finalizedRound", "funds", "endTime", "lastDraw"} <= set(compared)


def test_every_event_decodes_the_same_both_ways(played):
    env, fast, slow = played
    names = sorted({e["name"] for e in fast.abi if e.get("type") == "event"})
    seen = 0
    for name in names:
        expected = slow.events(name)
        _same(fast.events(name), expected)
        seen += len(expected)
        if expected and "task" in expected[0]["args"]:
            _same(fast.events(name, task=env.task), slow.events(name, task=env.task))
    filtered = fast.events("UpdateSubmitted", task=env.task, round=1,
                           participant=[env.members[0].address, env.members[3].address])
    assert [e["args"]["participant"] for e in filtered] == [env.members[0].address,
                                                            env.members[3].address]
    # 1 task, 4 joins, 4 updates, 1 seed, 1 model; an attest, a commit, a reveal per seat holder
    holders = len(set(env.market.committee(env.task)))
    assert seen == 11 + 3 * holders


def test_codec_takes_the_fast_path_for_the_markets_hot_events(played):
    _env, fast, _slow = played
    codec = ContractCodec(fast.abi)
    for name in ("UpdateSubmitted", "Attested", "Committed", "Revealed", "Joined",
                 "ModelFinalized", "CohortDrawn"):
        assert isinstance(codec.event(name), EventCodec), name
    assert codec.event("TaskCreated") is None  # a struct field: web3 decodes it


def test_what_the_fast_path_hands_to_web3(played):
    env, fast, slow = played
    with reverts("FedMarketRoundNotFinalized", round=2):
        fast.call("finalizedRound", env.task, 2)
    head = fast.w3.eth.block_number
    assert fast.events("UpdateSubmitted", head + 5) == []  # anvil refuses such a range
    with pytest.raises(ContractUsageError):
        fast.call("member", env.task, "not an address")
    # a filter on a field that is not indexed: web3 matches it itself
    _same(fast.events("UpdateSubmitted", numSamples=101),
          slow.events("UpdateSubmitted", numSamples=101))
    assert len(fast.events("UpdateSubmitted", numSamples=101)) == 1
    with pytest.raises(ContractUsageError):
        fast.call("noSuchView", env.task)
    # calldata is web3's, byte for byte
    assert fast.encode("submitUpdate", env.task, 1, b"\x01" * 32, 85, 7) == \
        slow.encode("submitUpdate", env.task, 1, b"\x01" * 32, 85, 7)
    joined = fast.events("Joined")[0]["block_number"]  # a past block: still the join window
    assert fast.call("roundState", env.task, block=joined) == slow.call(
        "roundState", env.task, block=joined)
    assert fast.call("roundState", env.task, block=joined)[2] == Phase.PENDING


def test_function_codec_refuses_what_eth_abi_refuses():
    codec = ContractCodec([{"type": "function", "name": "f", "stateMutability": "view",
                            "inputs": [{"name": "x", "type": "uint8"}],
                            "outputs": []}]).function("f")
    assert codec is not None
    with pytest.raises(Unsupported):
        codec.encode([256])
    with pytest.raises(Unsupported):
        codec.encode([1, 2])
    with pytest.raises(Unsupported):
        codec.decode(b"")  # no outputs: web3's path answers
