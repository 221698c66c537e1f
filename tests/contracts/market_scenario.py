"""Drivers shared by the FedMarket tests and scripts/bench_gas.py: parameters, time travel, a round."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TypeVar

import pytest
from eth_account.signers.local import LocalAccount

from ledger.availability import attest, encode_held
from ledger.chain import ChainBackend, custom_error
from ledger.cid import DAG_PB, RAW, Cid
from ledger.market import FedMarket
from ledger.market_types import TaskParams
from ledger.merkle import RewardTree, build_reward_tree

ETHER = 10**18
T = TypeVar("T")


def cid_of(text: str, codec: int = RAW) -> Cid:
    """A deterministic CID for test content."""
    return Cid(codec, hashlib.sha256(text.encode()).digest())


def default_params(**overrides: object) -> TaskParams:
    """Small, valid task parameters (3 rounds, committee 3 of quorum 2)."""
    params = TaskParams(
        manifest=cid_of("manifest", DAG_PB),
        genesis=cid_of("genesis"),
        bounty=9 * ETHER,
        rounds=3,
        max_participants=10,
        min_submissions=2,
        committee_size=3,
        quorum=2,
        dispute_size=7,
        join_duration=100,
        train_duration=100,
        commit_duration=50,
        reveal_duration=50,
        challenge_duration=30,
        claim_duration=1_000,
        min_stake=ETHER,
        slash_bps=5_000,
        committee_fee=ETHER // 100,
        challenge_bond=ETHER // 2,
        max_retries=1,
    )
    return replace(params, **overrides)


def pubkey_of(i: int) -> bytes:
    """A 33-byte compressed-style public key for member ``i``."""
    return bytes([2 + i % 2]) + hashlib.sha256(f"pk{i}".encode()).digest()


def goto(chain: ChainBackend, when: int) -> None:
    """Mine a block at ``when`` (no-op if the chain is already past it)."""
    now = chain.timestamp()
    if when > now:
        chain.increase_time(when - now)


@dataclass
class Env:
    """A market with one task and its members."""

    chain: ChainBackend
    market: FedMarket
    task: int
    requester: LocalAccount
    members: list[LocalAccount]
    params: TaskParams
    by_address: dict[str, LocalAccount] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_address = {a.address: a for a in self.members}


def make_env(
    chain: ChainBackend,
    n_members: int,
    params: TaskParams | None = None,
    market: FedMarket | None = None,
    accounts: list[LocalAccount] | None = None,
    stake: int | None = None,
) -> Env:
    """Deploy (or reuse) a market, create a task from account 0, join ``n_members`` accounts 1..n
    (each with ``stake``, default the task's minimum)."""
    accounts = accounts or chain.accounts
    requester = accounts[0]
    params = params or default_params()
    market = market or FedMarket.deploy(chain, sender=requester)
    task = market.create_task(params, sender=requester)
    members = accounts[1 : 1 + n_members]
    for i, account in enumerate(members):
        market.join(task, pubkey_of(i), sender=account, stake=stake)
    return Env(chain, market, task, requester, members, params)


def rewards_for(env: Env, budget: int, accounts: list[str]) -> RewardTree:
    """An even split of ``budget`` among ``accounts`` (remainder to the first)."""
    share = budget // len(accounts)
    amounts = [share] * len(accounts)
    amounts[0] += budget - share * len(accounts)
    return build_reward_tree(zip(accounts, amounts, strict=True))


def round_budget(params: TaskParams, round_: int) -> int:
    """The reward budget a round gets when it finalizes."""
    return params.round_budget(round_)


@dataclass
class RoundResult:
    """What ``play_round`` did."""

    round: int
    attempt: int
    model: Cid
    tree: RewardTree
    committee: list[LocalAccount]
    receipts: dict[str, list] = field(default_factory=dict)


def first_block_where(chain: ChainBackend, act: Callable[[], T], wanted: Callable[[T], bool],
                      tries: int = 32) -> T:
    """Do ``act`` in the first block whose outcome is ``wanted``: act, and if the outcome is
    not wanted, undo it, mine one empty block (a new prevrandao) and act again.

    A test that needs a kind of committee (nobody holding a quorum alone, somebody left
    out) so holds its precondition by construction instead of by one draw's luck.
    """
    for _ in range(tries):
        snapshot = chain.snapshot()
        outcome = act()
        if wanted(outcome):
            return outcome
        chain.revert(snapshot)
        chain.mine()
    raise AssertionError(f"no block in {tries} gives the outcome the test needs")


def play_round(env: Env, submitters: list[LocalAccount] | None = None, reveal_all: bool = True,
               wanted: Callable[[list[LocalAccount]], bool] = lambda holders: True) -> RoundResult:
    """Train phase: submit; attest phase: the seed is locked and the committee attests holding
    every update; commit phase: the whole committee commits the same result; reveal.

    Starts at the current attempt's train window (travels there if pending); the seed is
    locked in the first block whose committee is ``wanted``.
    """
    m, task = env.market, env.task
    state = m.round_state(task)
    goto(env.chain, state.attempt_start)
    state = m.round_state(task)
    receipts: dict[str, list] = {"submit": [], "commit": [], "reveal": []}
    submitters = env.members if submitters is None else submitters
    for i, account in enumerate(submitters):
        update = cid_of(f"update-{state.round}-{i}")
        receipts["submit"].append(m.submit_update(task, state.round, update, 100 + i, sender=account))
    goto(env.chain, state.train_end)
    receipts["lock"] = []

    def lock() -> list[LocalAccount]:
        receipts["lock"] = [m.lock_seed(task, sender=env.requester)]
        return seat_holders(env)

    committee = first_block_where(env.chain, lock, wanted)
    receipts["attest"] = attest_all(env, committee)
    goto(env.chain, state.attest_end)
    model = cid_of(f"model-{state.round}")
    budget = round_budget(env.params, state.round)
    tree = rewards_for(env, budget, [a.address for a in (submitters or env.members)])
    salt = hashlib.sha256(f"salt-{state.round}".encode()).digest()
    for account in committee:
        receipts["commit"].append(
            m.commit(task, state.round, state.attempt, model, tree.root, salt, sender=account))
    goto(env.chain, state.commit_end)
    revealers = committee if reveal_all else quorum_of(env, committee)
    for account in revealers:
        receipts["reveal"].append(
            m.reveal(task, state.round, state.attempt, model, tree.root, salt, sender=account)
        )
    return RoundResult(state.round, state.attempt, model, tree, committee, receipts)


def settle_window(env: Env) -> None:
    """Travel past the last finalized round's challenge window (its payouts open then)."""
    goto(env.chain, env.market.round_state(env.task).attempt_start)


def commit_all(env: Env, holders: list[LocalAccount], model: Cid, root: bytes, salt: bytes) -> None:
    """Every holder commits (model, root) in the current attempt."""
    state = env.market.round_state(env.task)
    for account in holders:
        env.market.commit(env.task, state.round, state.attempt, model, root, salt, sender=account)


def attest_all(env: Env, holders: list[LocalAccount]) -> list:
    """Every holder attests holding every update of the current attempt (attest window)."""
    n = env.market.round_state(env.task).submissions
    state = env.market.round_state(env.task)
    held = encode_held(range(n), n)
    return [attest(env.market, env.task, state.round, held, sender=a) for a in holders]


def lock_and_seat(env: Env, wanted: Callable[[list[LocalAccount]], bool] = lambda holders: True,
                  *, to_commit: bool = True) -> list[LocalAccount]:
    """At the train deadline: lock the attempt's seed in the first block whose seat holders
    are ``wanted``, and return them; then (``to_commit``) travel to the commit window, no
    attestation made (the contract does not require one to commit)."""
    state = env.market.round_state(env.task)
    goto(env.chain, state.train_end)

    def lock() -> list[LocalAccount]:
        env.market.lock_seed(env.task, sender=env.requester)
        return seat_holders(env)

    holders = first_block_where(env.chain, lock, wanted)
    if to_commit:
        goto(env.chain, state.attest_end)
    return holders


def seat_holders(env: Env) -> list[LocalAccount]:
    """Distinct holders of the latest locked draw's seats, in first-seat order."""
    owners = list(dict.fromkeys(env.market.committee(env.task)))
    return [env.by_address[a] for a in owners]


def quorum_of(env: Env, holders: list[LocalAccount]) -> list[LocalAccount]:
    """The fewest leading holders whose seats reach the quorum."""
    picked, seats = [], 0
    for account in holders:
        if seats >= env.params.quorum:
            break
        picked.append(account)
        seats += env.market.seats_of(env.task, account.address)
    return picked


@contextmanager
def reverts(name: str, **expected: object) -> Iterator[pytest.ExceptionInfo]:
    """Expect the custom error ``name`` with (a subset of) these argument values."""
    with pytest.raises(custom_error(name)) as info:
        yield info
    for key, value in expected.items():
        assert info.value.error_args[key] == value, (key, info.value.error_args)


def balance(chain: ChainBackend, address: str) -> int:
    """ETH balance in wei."""
    return int(chain.w3.eth.get_balance(address))


def gas_cost(receipt: dict) -> int:
    """Wei spent on gas by a receipt."""
    return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
