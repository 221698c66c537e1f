"""A node's claims: batched every N claimable rounds, the rest at the task's end, each round
decided once, and a batch that someone front-ran by claiming one of its rounds for us.

The market and the round outcomes are fakes here (the claim rules themselves are the
contract's, tested in tests/contracts/test_market_rewards.py; the e2e and audit runs claim
through the real contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from ledger.chain.custom_errors import custom_error
from ledger.market_types import Phase
from node.runtime.participant import NodeSummary
from node.runtime.payouts import Payouts

ME = "0x" + "ab" * 20
ROOT = b"\x01" * 32


@dataclass
class FakeMarket:
    claimed_rounds: set[int] = field(default_factory=set)
    sent: list[list[int]] = field(default_factory=list)
    reads: list[int] = field(default_factory=list)
    front_run: set[int] = field(default_factory=set)  # rounds a stranger claims for us first

    def finalized_round(self, task, round_):
        self.reads.append(round_)
        return SimpleNamespace(rewards_root=ROOT, parent=None, attempt=0)

    def claimed(self, task, round_, account):
        assert account == ME
        return round_ in self.claimed_rounds

    def _pay(self, rounds):
        taken = [r for r in rounds if r in self.front_run]
        if taken:
            self.claimed_rounds.update(taken)
            self.front_run.clear()
            raise custom_error("FedMarketAlreadyClaimed")({"task": 1, "round": taken[0],
                                                          "account": ME})
        self.claimed_rounds.update(rounds)
        self.sent.append(list(rounds))

    def claim(self, task, round_, account, amount, proof, *, sender):
        assert amount == 100 * round_ and proof == [bytes([round_])]
        self._pay([round_])

    def claim_rounds(self, task, account, claims, *, sender):
        assert all(a == 100 * r and p == [bytes([r])] for r, a, p in claims)
        self._pay([r for r, _, _ in claims])


class FakeOutcome:
    def __init__(self, round_):
        self.round_ = round_
        self.rewards_root = ROOT

    def amount_of(self, account):
        return 0 if self.round_ == 3 else 100 * self.round_  # round 3 paid us nothing

    def tree(self):
        return SimpleNamespace(proof=lambda account: [bytes([self.round_])])


def _node(market, settled, phase=Phase.TRAIN):
    node = SimpleNamespace(market=market, task=1, account=SimpleNamespace(address=ME),
                           summary=NodeSummary(),
                           outcome=lambda round_, parent, attempt: FakeOutcome(round_))
    node.read = SimpleNamespace(state=SimpleNamespace(phase=phase),
                                round_settled=lambda r: r <= settled[0])
    return node


def test_claims_go_out_in_batches_and_the_rest_at_the_end():
    market, settled = FakeMarket(), [0]
    node = _node(market, settled)
    payouts = Payouts(node, claim_every=3)
    for finalized in range(1, 9):  # round r finalizes, round r - 1 settles
        settled[0] = finalized - 1
        payouts.claim(finalized)
    # rounds 1..7 settled: round 3 earned nothing (decided without a transaction)
    assert market.sent == [[1, 2, 4], [5, 6, 7]]
    assert market.reads == list(range(1, 8))  # each settled round read once
    assert node.summary.claimed == {1: 100, 2: 200, 3: 0, 4: 400, 5: 500, 6: 600, 7: 700}
    assert not payouts.decided(8)
    node.read.state.phase = Phase.FINISHED
    assert payouts.claim(8) is None  # round 8's window is still open: wait for one batch
    settled[0] = 8
    assert payouts.claim(8) == "claimed 800 for round 8"
    assert payouts.decided(8)


def test_claim_every_one_claims_each_round_as_it_settles():
    market, settled = FakeMarket(), [1]
    payouts = Payouts(_node(market, settled), claim_every=1)
    assert payouts.claim(2) == "claimed 100 for round 1"
    assert payouts.claim(2) is None
    settled[0] = 2
    assert payouts.claim(3) == "claimed 200 for round 2"
    settled[0] = 5  # three settled at once (a restart): one transaction
    assert payouts.claim(6) == "claimed 900 for rounds 4, 5"  # round 3 earned nothing
    assert market.sent == [[1], [2], [4, 5]]


def test_a_round_claimed_for_us_meanwhile_is_dropped_and_the_rest_sent_again():
    market, settled = FakeMarket(front_run={2}), [3]
    node = _node(market, settled)
    payouts = Payouts(node, claim_every=2)
    message = payouts.claim(4)
    assert message is not None and "on this node's behalf" in message
    assert node.summary.claimed == {2: 200, 3: 0}  # paid to us by the stranger's claim
    assert payouts.claim(4) is None  # one ready round left: below the batch size
    node.read.state.phase = Phase.FINISHED
    settled[0] = 4
    assert payouts.claim(4) == "claimed 500 for rounds 1, 4"
    assert market.sent == [[1, 4]]
    assert node.summary.claimed == {1: 100, 2: 200, 3: 0, 4: 400}
