"""Client sampling end to end: 12 shop processes, a cohort of 4 drawn on chain each round.

Each round's trainers must be exactly the cohort the contract drew (``ledger.cohort`` from the
``CohortDrawn`` seed and the join order), the audit must check it, and ``fedledger simulate``
given the same draws must produce the chain's final model byte for byte.
"""

from __future__ import annotations

import json

import pytest

from ledger.cohort import cohort_members
from ledger.market_types import Phase
from node.cli.app import main as cli_main
from tests.e2e.conftest import claims, demo_run, submissions_by_round

pytestmark = pytest.mark.timeout(600)

MEMBERS, K, ROUNDS = 12, 4, 3


def test_only_each_rounds_drawn_cohort_trains_and_simulate_agrees(tmp_path, capsys):
    workdir = tmp_path / "demo"
    with demo_run(workdir, participants=MEMBERS, rounds=ROUNDS, cohort=K,
                  partition="iid") as run:
        last = run.drive()
        codes = run.wait_nodes()
        assert last.state.phase == Phase.FINISHED
        assert set(codes.values()) == {0}
        task, market = run.posted.task, run.market
        members = market.members(task)
        assert len(members) == MEMBERS
        seeds = [market.cohort_seed(task, r) for r in range(1, ROUNDS + 1)]
        assert len(set(seeds)) == ROUNDS and bytes(32) not in seeds
        by_round = submissions_by_round(run)
        cohorts = {r: cohort_members(seeds[r - 1], members, K) for r in range(1, ROUNDS + 1)}
        for r in range(1, ROUNDS + 1):
            assert sorted(by_round[r]) == sorted(cohorts[r])  # every drawn shop, nobody else
        assert len(set().union(*map(set, cohorts.values()))) > K  # the cohort moves
        # Rewards went to each round's trainers only.
        for r, account, _ in claims(run):
            assert account in cohorts[r]
        client_of = {n.account.address: n.client_id for n in run.nodes}
        join_order = ",".join(client_of[m] for m in members)
        final = str(market.lineage(task)[-1].model)
    capsys.readouterr()
    args = ["simulate", "--partition", "iid", "--clients", str(MEMBERS), "--rounds", str(ROUNDS),
            "--cohort", str(K), "--join-order", join_order, "--quiet"]
    for seed in seeds:
        args += ["--cohort-seed", seed.hex()]
    assert cli_main(args) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["final_cid"] == final
    # The saved work directory replays the lineage bit for bit, cohort membership included.
    assert cli_main(["audit", "1", "--workdir", str(workdir), "--replay"]) == 0
    out = capsys.readouterr().out
    assert out.count("round.cohort") >= ROUNDS and "FAILED" not in out
