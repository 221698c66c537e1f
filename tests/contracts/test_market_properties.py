"""Stateful property test of FedMarket on py-evm: random joins, submits, commits, reveals,
claims, settlements, withdrawals, refunds and time jumps (mostly phase-driven steps, so rounds
really finalize); invariants checked after every step:

- the contract's ETH balance == deposits (bounty + stakes) - everything paid out;
- it also equals the contract's own books: unallocated + slash pool + unpaid round budgets +
  member balances not withdrawn (so no wei is created or lost);
- nobody is paid twice (one RewardClaimed per (round, account), one StakeWithdrawn per member);
- a finalized round's record never changes.
"""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ledger.chain import ContractCustomError
from ledger.market import FedMarket
from ledger.market_types import Phase
from ledger.merkle import build_reward_tree
from tests.contracts.market_scenario import ETHER, balance, cid_of, default_params, goto, pubkey_of

N_ACCOUNTS = 5
PARAMS = default_params(
    rounds=3, max_participants=4, min_submissions=1, committee_size=3, quorum=2,
    join_duration=20, train_duration=10, commit_duration=10, reveal_duration=10,
    max_retries=1, bounty=3 * ETHER, committee_fee=ETHER // 10,
)  # fmt: skip
_CHAIN = {}


def _chain():
    if "chain" not in _CHAIN:
        from ledger.chain.pyevm import PyEvmChain

        chain = PyEvmChain()
        requester = chain.accounts[0]
        market = FedMarket.deploy(chain, sender=requester)
        _CHAIN.update(chain=chain, market=market)
    return _CHAIN["chain"], _CHAIN["market"]


class MarketMachine(RuleBasedStateMachine):
    """One task per example; the chain is reverted to its snapshot afterwards."""

    @initialize(seed=st.integers(0, 2**32))
    def start(self, seed):
        # Phase-driven choices come from this rng: hypothesis' own draws favour boundary
        # values, which made almost every committee lie.
        self.rng = random.Random(seed)
        self.chain, self.m = _chain()
        self.snapshot = self.chain.snapshot()
        self.requester = self.chain.accounts[0]
        self.accounts = self.chain.accounts[1 : 1 + N_ACCOUNTS]
        self.task = self.m.create_task(PARAMS, sender=self.requester)
        self.deposits = PARAMS.bounty
        self.start_balance = balance(self.chain, self.m.address) - PARAMS.bounty
        self.members: list = []
        self.salts: dict[str, tuple] = {}
        self.trees: dict[int, object] = {}
        self.finalized: dict[int, object] = {}
        self.from_block = self.chain.block_number()
        for i in range(PARAMS.max_participants):  # a full task, so rounds can actually run
            self.join(i)

    def teardown(self):
        if hasattr(self, "snapshot"):
            self.chain.revert(self.snapshot)

    def _try(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ContractCustomError:
            return None  # a revert is a legal outcome; the invariants judge the state

    def _tree(self, round_):
        if round_ not in self.trees:
            share = PARAMS.bounty // PARAMS.rounds - PARAMS.committee_fee * PARAMS.quorum
            members = self.m.members(self.task) or [self.requester.address]
            each = share // len(members)
            self.trees[round_] = build_reward_tree((a, each) for a in members)
        return self.trees[round_]

    @rule(i=st.integers(0, N_ACCOUNTS - 1))
    def join(self, i):
        if self._try(self.m.join, self.task, pubkey_of(i), sender=self.accounts[i]):
            self.deposits += PARAMS.stake
            self.members.append(self.accounts[i])

    @rule(i=st.integers(0, N_ACCOUNTS - 1))
    def submit(self, i):
        round_ = self.m.current_round(self.task)
        self._try(self.m.submit_update, self.task, round_, cid_of(f"u{i}-{round_}"), 10 + i,
                  sender=self.accounts[i])  # fmt: skip

    @rule(i=st.integers(0, N_ACCOUNTS - 1), honest=st.booleans())
    def commit(self, i, honest):
        round_ = self.m.current_round(self.task)
        model = cid_of(f"model-{round_}" if honest else f"bad-{round_}-{i}")
        root = self._tree(round_).root
        salt = hashlib.sha256(f"{i}-{round_}".encode()).digest()
        attempt = self.m.round_state(self.task).attempt
        if self._try(self.m.commit, self.task, round_, model, root, salt, sender=self.accounts[i]):
            self.salts[self.accounts[i].address] = (round_, attempt, model, root, salt)

    @rule(i=st.integers(0, N_ACCOUNTS - 1))
    def reveal(self, i):
        vote = self.salts.get(self.accounts[i].address)
        if vote:
            round_, attempt, model, root, salt = vote
            self._try(self.m.reveal, self.task, round_, attempt, model, root, salt, sender=self.accounts[i])

    @rule(i=st.integers(0, N_ACCOUNTS - 1), round_=st.integers(1, PARAMS.rounds))
    def claim(self, i, round_):
        tree = self.trees.get(round_)
        account = self.accounts[i].address
        if tree is None or account not in [a for a, _ in tree.entries]:
            return
        self._try(self.m.claim, self.task, round_, account, tree.amount_of(account), tree.proof(account),
                  sender=self.accounts[(i + 1) % N_ACCOUNTS])  # fmt: skip

    @rule(i=st.integers(0, N_ACCOUNTS - 1))
    def settle(self, i):
        self._try(self.m.settle, self.task, self.accounts[i].address, sender=self.requester)

    @rule(i=st.integers(0, N_ACCOUNTS - 1))
    def withdraw(self, i):
        self._try(self.m.withdraw_stake, self.task, sender=self.accounts[i])

    @rule()
    def refund(self):
        self._try(self.m.refund, self.task, sender=self.requester)

    @rule(data=st.data())
    def drive(self, data):
        """Do what the current phase calls for, with random choices (who acts, who lies)."""
        m, task = self.m, self.task
        state = m.round_state(task)
        if state.phase == Phase.PENDING:
            goto(self.chain, state.attempt_start)
        elif state.phase == Phase.TRAIN:
            for i in range(len(self.members)):
                if self.rng.random() < 0.85:
                    self.submit(i)
            goto(self.chain, state.train_end)
        elif state.phase == Phase.COMMIT:
            for address in m.committee(task, state.round, state.attempt):
                i = [a.address for a in self.accounts].index(address)
                if self.rng.random() < 0.85:
                    self.commit(i, honest=self.rng.random() < 0.85)
            goto(self.chain, state.commit_end)
        elif state.phase == Phase.REVEAL:
            for i in range(len(self.members)):
                if self.rng.random() < 0.85:
                    self.reveal(i)
        if self.trees:  # and someone claims a reward of some round
            self.claim(data.draw(st.integers(0, N_ACCOUNTS - 1)), data.draw(st.sampled_from(sorted(self.trees))))

    # Phase-driven steps are most of the walk (hypothesis has no rule weights: aliases do it).
    drive_again = rule(data=st.data())(lambda self, data: self.drive(data))
    drive_more = rule(data=st.data())(lambda self, data: self.drive(data))
    drive_on = rule(data=st.data())(lambda self, data: self.drive(data))

    @rule(seconds=st.integers(1, 25))
    def wait(self, seconds):
        self.chain.increase_time(seconds)

    @invariant()
    def books_balance(self):
        if not hasattr(self, "task"):
            return
        m, task = self.m, self.task
        events = {name: m.contract.events(name, self.from_block, task=task)
                  for name in ("RewardClaimed", "StakeWithdrawn", "BountyRefunded", "TaskCancelled")}  # fmt: skip
        paid = (sum(e["args"]["amount"] for e in events["RewardClaimed"])
                + sum(e["args"]["amount"] for e in events["StakeWithdrawn"])
                + sum(e["args"]["amount"] for e in events["BountyRefunded"])
                + sum(e["args"]["refund"] for e in events["TaskCancelled"]))  # fmt: skip
        held = balance(self.chain, m.address) - self.start_balance
        assert held == self.deposits - paid
        claims = [(e["args"]["round"], e["args"]["account"]) for e in events["RewardClaimed"]]
        assert len(claims) == len(set(claims))
        withdrawals = [e["args"]["participant"] for e in events["StakeWithdrawn"]]
        assert len(withdrawals) == len(set(withdrawals))
        unallocated, slash_pool = m.funds(task)
        books = unallocated + slash_pool
        for account in self.members:
            info = m.member(task, account.address)
            books += 0 if info.withdrawn else info.balance
        for round_ in range(1, m.current_round(task)):
            entry = m.finalized_round(task, round_)
            books += entry.budget - m.round_paid(task, round_)
            assert self.finalized.setdefault(round_, entry) == entry  # never changes
        assert held == books


TestMarketProperties = MarketMachine.TestCase
TestMarketProperties.settings = settings(
    max_examples=6, stateful_step_count=25, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def _close_chain():
    yield
    if "chain" in _CHAIN:
        _CHAIN.pop("chain").close()
