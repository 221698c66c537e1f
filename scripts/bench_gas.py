#!/usr/bin/env python3
"""Gas of every FedMarket operation at 10 and 100 members, round 1 vs round 10; ONE JSON line.

For each member count N in {10, 100} (committee k=5, quorum q=3, 10 rounds), on anvil pinned to
prague (the same gas as py-evm to the unit), every member joins, submits an update in each of
the 10 rounds, the committee commits and all 5 reveal (the 3rd reveal finalizes), every member
claims its reward of rounds 1 and 10, and withdraws its stake at the end.

Reported per operation: the median gas over participants (`median`), per N and for round 1 and
round 10 where it applies; the finalizing reveal separately (it writes the round's record and
pays the quorum's fees, once per round). Baselines in the same run: the floor of a
`submitUpdate` transaction (21,000 + the calldata cost of its actual bytes, and the EIP-7623
floor), and the growth ratios N=10 -> N=100 and round 1 -> round 10 (goal: <= 1.05).

Usage: ``.venv/bin/python scripts/bench_gas.py [--rounds 10]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.chain import AnvilChain
from tests.contracts.market_scenario import (
    ETHER,
    default_params,
    goto,
    make_env,
    play_round,
)

COMMITTEE, QUORUM = 5, 3


def calldata_cost(data: bytes) -> tuple[int, int]:
    """(21,000 + standard calldata gas, EIP-7623 floor) of a transaction carrying ``data``."""
    zeros = data.count(0)
    nonzeros = len(data) - zeros
    standard = 21_000 + 4 * zeros + 16 * nonzeros
    floor = 21_000 + 10 * (zeros + 4 * nonzeros)
    return standard, floor


def median(values: list[int]) -> int:
    return int(statistics.median(values))


def run(n: int, rounds: int) -> dict:
    with AnvilChain(accounts=n + 1, balance_eth=1_000) as chain:
        params = default_params(
            rounds=rounds, max_participants=n, committee_size=COMMITTEE, quorum=QUORUM,
            bounty=rounds * ETHER, min_submissions=1, join_duration=10_000,
        )  # fmt: skip
        env = make_env(chain, n, params)
        m, task = env.market, env.task
        joins = [e for e in m.contract.events("Joined", task=task)]
        join_gas = [int(chain.w3.eth.get_transaction_receipt(e["tx_hash"])["gasUsed"]) for e in joins]
        per_round = []
        results = []
        for _ in range(rounds):
            result = play_round(env)
            gas = {k: [int(r["gasUsed"]) for r in v] for k, v in result.receipts.items()}
            reveals = gas["reveal"]
            per_round.append({
                "submitUpdate": median(gas["submit"]),
                "commit": median(gas["commit"]),
                "reveal": median(reveals[:QUORUM - 1] + reveals[QUORUM:]),
                "reveal_finalizing": reveals[QUORUM - 1],
            })  # fmt: skip
            results.append(result)
        claims = {}
        for index in (0, rounds - 1):
            result = results[index]
            gas = []
            for account in env.members:
                amount = result.tree.amount_of(account.address)
                receipt = m.claim(task, result.round, account.address, amount,
                                  result.tree.proof(account.address), sender=account)  # fmt: skip
                gas.append(int(receipt["gasUsed"]))
            claims[result.round] = median(gas)
        goto(chain, m.round_state(task).attempt_start)
        withdraw = median([int(m.withdraw_stake(task, sender=a)["gasUsed"]) for a in env.members])
        sample = results[-1].receipts["submit"][0]
        data = bytes(chain.w3.eth.get_transaction(sample["transactionHash"])["input"])
        first, last = per_round[0], per_round[-1]
        return {
            "join": median(join_gas),
            "round1": {**first, "claim": claims[1]},
            f"round{rounds}": {**last, "claim": claims[rounds]},
            "withdrawStake": withdraw,
            "submit_calldata_bytes": len(data),
            "submit_floor": calldata_cost(data)[0],
            "submit_floor_eip7623": calldata_cost(data)[1],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    small, large = run(10, args.rounds), run(100, args.rounds)
    last = f"round{args.rounds}"
    ops = ["submitUpdate", "commit", "reveal", "reveal_finalizing", "claim"]
    growth_members = {op: round(large[last][op] / small[last][op], 4) for op in ops}
    growth_members["join"] = round(large["join"] / small["join"], 4)
    growth_members["withdrawStake"] = round(large["withdrawStake"] / small["withdrawStake"], 4)
    growth_rounds = {
        f"n{n}": {op: round(res[last][op] / res["round1"][op], 4) for op in ops}
        for n, res in ((10, small), (100, large))
    }
    goals = {"submitUpdate": 60_000, "commit": 80_000, "reveal": 80_000, "claim": 80_000}
    worst = max(
        [v for k, v in growth_members.items() if k != "reveal_finalizing"]
        + [v for g in growth_rounds.values() for k, v in g.items() if k != "reveal_finalizing"]
    )
    meets = all(res[r][op] <= goal for res in (small, large) for r in ("round1", last)
                for op, goal in goals.items()) and worst <= 1.05  # fmt: skip
    print(json.dumps({
        "bench": "gas",
        "committee": COMMITTEE,
        "quorum": QUORUM,
        "n10": small,
        "n100": large,
        "growth_10_to_100_members": growth_members,
        "growth_round1_to_round10": growth_rounds,
        "submit_vs_floor": round(large[last]["submitUpdate"] / large["submit_floor"], 4),
        "goals": goals,
        "worst_growth_excluding_finalizing": worst,
        "meets_goals": meets,
    }, sort_keys=True))  # fmt: skip


if __name__ == "__main__":
    main()
