#!/usr/bin/env python3
"""Attack economics of protocol v2; ONE JSON line.

* ``capture``: the probability that a party holding a stake fraction f wins a quorum of a
  k = 5, q = 3 committee, measured over ``--draws`` seeds with the seat draw of
  ``ledger.committee`` (the contract's own rule; the first draws are checked seat for seat
  against ``FedMarket.seatsOf`` on anvil), next to the binomial value P[Bin(5, f) >= 3] and
  the 3-sigma sampling error of the measurement. The attacker's stake is split over 10 Sybil
  accounts joining last; splitting changes nothing by construction, and the check shows it.
* ``lying_quorum``, ``stuck_wei_after_task``: the lying 2-of-3 quorum scenario of
  ``tests/contracts/test_market_attacks.py`` run on anvil, read back from its events.
* ``gas``: the operations of three honest rounds (``tests.contracts.market_scenario.play_round``,
  k = 3, q = 2, 6 members) plus challenge and a dispute vote from the scenario above;
  ``reveal_finalizing_alone`` is a finalizing reveal by a member whose own seats reach the
  quorum (it also pays its result's tally slot). ``scripts/bench_gas.py`` has the full table.

Usage: ``.venv/bin/python scripts/bench_attacks.py [--draws 20000]``
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_utils import keccak

from ledger.chain import AnvilChain, Contract
from ledger.committee import seats_in
from ledger.market_artifact import market_artifact
from tests.contracts import test_market_attacks as attacks
from tests.contracts.market_scenario import default_params, make_env, play_round, pubkey_of

K, Q = 5, 3
FRACTIONS = (0.1, 0.2, 0.33, 0.5)
HONEST, SYBILS = 30, 10


def binomial_tail(k: int, q: int, f: float) -> float:
    return sum(math.comb(k, j) * f**j * (1 - f) ** (k - j) for j in range(q, k + 1))


def capture(draws: int) -> dict:
    measured, expected, errors = [], [], []
    for f in FRACTIONS:
        honest_stake = 1000
        attacker_total = round(HONEST * honest_stake * f / (1 - f))
        total = HONEST * honest_stake + attacker_total
        start = HONEST * honest_stake  # Sybils join last: their intervals are contiguous
        wins = sum(seats_in(keccak(f"seed-{f}-{i}".encode()), K, total, start, attacker_total) >= Q
                   for i in range(draws))
        p = binomial_tail(K, Q, attacker_total / total)
        measured.append(round(wins / draws, 4))
        expected.append(round(p, 4))
        errors.append(round(3 * math.sqrt(p * (1 - p) / draws), 4))
    return {"k": K, "q": Q, "stake_fraction": list(FRACTIONS), "capture_probability": measured,
            "binomial": expected, "three_sigma": errors, "draws": draws,
            "within_error": all(abs(m - e) <= s for m, e, s in zip(measured, expected, errors))}


def contract_check() -> dict:
    """Seat counts from the contract equal the off-chain rule, Sybils summed or not."""
    with AnvilChain(accounts=HONEST + SYBILS + 1, balance_eth=1_000) as chain:
        params = default_params(max_participants=HONEST + SYBILS, committee_size=K, quorum=Q,
                                dispute_size=2 * K + 1, min_submissions=1, max_retries=20)
        env = make_env(chain, HONEST, params)
        m, task = env.market, env.task
        sybils = chain.accounts[1 + HONEST:1 + HONEST + SYBILS]
        for i, account in enumerate(sybils):
            m.join(task, pubkey_of(100 + i), sender=account)
        start = m.member(task, sybils[0].address).stake_start
        checked = agree = 0
        for attempt in range(8):  # no quorum is ever reached: each attempt draws a new seed
            s = m.round_state(task)
            if attempt == 0:
                chain.increase_time(s.attempt_start - chain.timestamp())
                m.submit_update(task, 1, attacks.cid_of("u"), 1, sender=env.members[0])
                s = m.round_state(task)
            chain.increase_time(max(1, s.train_end - chain.timestamp()))
            m.lock_seed(task, sender=env.requester)
            seed, total = m.round_state(task).seed, m.last_draw(task)[4]
            on_chain = sum(m.seats_of(task, a.address) for a in sybils)
            off_chain = seats_in(seed, K, total, start, SYBILS * params.min_stake)
            checked += 1
            agree += on_chain == off_chain
            chain.increase_time(max(1, s.reveal_end - chain.timestamp()))
        return {"draws_checked_on_chain": checked, "agree": agree}


def honest_round_gas() -> dict:
    with AnvilChain(accounts=8, balance_eth=1_000) as chain:
        env = make_env(chain, 6)
        gas = {"submitUpdate": [], "attest": [], "commit": [], "reveal": [], "lockSeed": []}
        finalizing, alone = [], []
        for _ in range(3):
            result = play_round(env)
            gas["submitUpdate"] += [int(r["gasUsed"]) for r in result.receipts["submit"]]
            gas["attest"] += [int(r["gasUsed"]) for r in result.receipts["attest"]]
            gas["commit"] += [int(r["gasUsed"]) for r in result.receipts["commit"]]
            gas["lockSeed"] += [int(r["gasUsed"]) for r in result.receipts["lock"]]
            for i, r in enumerate(result.receipts["reveal"]):
                if not env.market.events_in(r, "ModelFinalized"):
                    gas["reveal"].append(int(r["gasUsed"]))
                else:  # the first reveal finalizing: one member's seats alone reach the quorum
                    (alone if i == 0 else finalizing).append(int(r["gasUsed"]))
        out = {k: int(statistics.median(v)) for k, v in gas.items() if v}
        out["reveal_finalizing"] = int(statistics.median(finalizing)) if finalizing else None
        out["reveal_finalizing_alone"] = int(statistics.median(alone)) if alone else None
        return out


def lying_quorum() -> tuple[dict, int, dict]:
    with AnvilChain(accounts=10, balance_eth=1_000) as chain:
        attacks.test_a_lying_quorum_is_overturned_before_any_money_moves(chain)
        w3 = chain.w3
        # the scenario deployed one market: its address is the emitter of the first log
        logs = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest"})
        market = Contract(w3, market_artifact(), logs[0]["address"])
        resolved = market.events("DisputeResolved")
        claims = market.events("RewardClaimed")
        slashes = market.events("Slashed")
        honest = {a.address for a in chain.accounts[3:5]}
        first_claim = min(e["block_number"] for e in claims)
        gas = {}
        for name, fn in (("challenge", "Challenged"), ("dispute_vote", "DisputeCommitted"),
                         ("dispute_reveal", "DisputeRevealed"), ("claim", "RewardClaimed")):
            receipts = [w3.eth.get_transaction_receipt(e["tx_hash"]) for e in market.events(fn)]
            gas[name] = int(statistics.median(int(r["gasUsed"]) for r in receipts))
        row = {
            "overturned": any(e["args"]["outcome"] == 3 for e in resolved),
            "paid_before_overturn_wei": sum(e["args"]["amount"] for e in claims
                                            if e["block_number"] < resolved[0]["block_number"]),
            "honest_slashed_wei": sum(e["args"]["amount"] for e in slashes
                                      if e["args"]["member"] in honest),
            "liars_slashed_wei": sum(e["args"]["amount"] for e in slashes
                                     if e["args"]["member"] not in honest),
            "first_claim_after_resolution": first_claim > resolved[0]["block_number"],
        }
        stuck = int(w3.eth.get_balance(market.address))
        return row, stuck, gas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=20_000)
    args = parser.parse_args()
    row, stuck, dispute_gas = lying_quorum()
    print(json.dumps({
        "bench": "attacks",
        "capture": {**capture(args.draws), "contract": contract_check()},
        "lying_quorum": row,
        "stuck_wei_after_task": stuck,
        "gas": {**honest_round_gas(), **dispute_gas},
    }, sort_keys=True))


if __name__ == "__main__":
    main()
