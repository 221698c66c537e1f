"""Faults on real separate parts: node processes, one js-ipfs node each, anvil.

Every wait is bounded (the demo's drive timeout, pytest's timeout). What must hold whatever the
timing: the task finishes, every live committee member that revealed in a finalizing attempt
revealed the finalized result (no split), no live member is slashed, and an auditor holding a
single IPFS node replays the whole lineage.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from ledger.availability import available
from ledger.ipfs_store import IpfsStore
from ledger.lineage import read_lineage
from ledger.market_types import Phase
from node.cli.app import main as cli_main
from node.demo.run import REQUESTER_NODE
from tests.e2e.conftest import demo_run, simulated_final_cid

pytestmark = pytest.mark.timeout(600)


def _victim_index(run) -> int:
    """The shop with the fewest rows: it trains fastest, so it usually submits first."""
    return min(range(len(run.nodes)), key=lambda i: run.nodes[i].data.stat().st_size)


def _assert_no_split_and_no_live_slash(run, live: set[str]) -> None:
    lineage = read_lineage(run.market, run.posted.task)
    for r in lineage.rounds:
        rec = r.record
        for v in r.votes:
            if v.revealed and v.member in live and v.attempt == rec.attempt:
                assert v.agrees_with(rec), f"round {r.round}: {v.member} revealed another result"
    slashed = {e["args"]["member"] for e in run.market.contract.events("Slashed",
                                                                        task=run.posted.task)}
    assert not slashed & live, f"live members slashed: {slashed & live}"


def _audit_through(run, node_name: str, capsys) -> str:
    capsys.readouterr()
    code = cli_main(["audit", str(run.posted.task), "--rpc", run.chain.rpc_url,
                     "--deployment", str(run.config.workdir / "deployment.json"),
                     "--ipfs", run.swarm[node_name].api_url, "--replay"])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def test_a_shop_whose_machine_dies_right_after_submitting_does_not_split_the_committee(
        tmp_path, capsys):
    with demo_run(tmp_path / "demo", participants=4, rounds=2, ipfs_per_node=True) as run:
        index = _victim_index(run)
        victim = run.nodes[index]

        def submitted(progress) -> bool:
            me = run.market.member(run.posted.task, victim.account.address)
            return me.last_submitted_round == 1

        run.drive(until=submitted, poll_seconds=0.05)
        run.kill(index)  # its process and its IPFS node: the whole machine is gone
        run.swarm[f"shop-{index + 1}"].stop()
        last = run.drive()
        codes = run.wait_nodes()
        assert last.state.phase == Phase.FINISHED
        assert all(codes[n.client_id] == 0 for n in run.nodes if n is not victim)
        lineage = read_lineage(run.market, run.posted.task)
        first = lineage.rounds[0]
        counted = available(first.attestations, submissions=len(first.updates),
                            quorum=lineage.params.quorum)
        # Dead before the attest window: it attested nothing, and its update counts only if
        # live members holding a quorum of seats fetched it in the moment before it died.
        assert all(a.member != victim.account.address for a in first.attestations)
        live = {n.account.address for n in run.nodes if n is not victim}
        _assert_no_split_and_no_live_slash(run, live)
        # The replay recomputes round 1 from the counted set alone, fetching through one node.
        out = _audit_through(run, REQUESTER_NODE, capsys)
        assert f"{len(counted)} of {len(first.updates)} updates available" in out


def test_the_chain_frozen_for_20_seconds_mid_round_loses_and_repeats_nothing(tmp_path, capsys):
    with demo_run(tmp_path / "demo", participants=4, rounds=3, ipfs_per_node=True) as run:
        def round_two_training(progress) -> bool:
            return progress.state.round == 2 and progress.state.phase == Phase.TRAIN

        run.drive(until=round_two_training, poll_seconds=0.05)
        pid = run.chain.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        thaw = threading.Timer(20.0, os.kill, (pid, signal.SIGCONT))
        thaw.start()
        try:
            frozen_at = time.monotonic()
            last = run.drive()
        finally:
            thaw.cancel()
            os.kill(pid, signal.SIGCONT)
        assert time.monotonic() - frozen_at >= 20.0
        codes = run.wait_nodes()
        assert last.state.phase == Phase.FINISHED and set(codes.values()) == {0}
        events = run.market.contract.events("UpdateSubmitted", task=run.posted.task)
        per_member = {(e["args"]["round"], e["args"]["participant"]) for e in events}
        assert len(events) == len(per_member) == 12  # 4 shops x 3 rounds, each exactly once
        claims = run.market.contract.events("RewardClaimed", task=run.posted.task)
        assert len(claims) == len({(e["args"]["round"], e["args"]["account"]) for e in claims}) == 12
        assert str(run.market.lineage(run.posted.task)[-1].model) == simulated_final_cid(run)
        _assert_no_split_and_no_live_slash(run, {n.account.address for n in run.nodes})


def test_an_ipfs_node_restarted_mid_task_keeps_its_repo_and_the_task_finishes(tmp_path, capsys):
    with demo_run(tmp_path / "demo", participants=4, rounds=3, ipfs_per_node=True) as run:
        def round_two_training(progress) -> bool:
            return progress.state.round == 2 and progress.state.phase == Phase.TRAIN

        run.drive(until=round_two_training, poll_seconds=0.05)
        node = run.swarm["shop-2"]
        before = (node.peer_id, node.api_url)
        run.swarm.restart("shop-2")
        assert (node.peer_id, node.api_url) == before
        last = run.drive()
        codes = run.wait_nodes()
        assert last.state.phase == Phase.FINISHED and set(codes.values()) == {0}
        assert str(run.market.lineage(run.posted.task)[-1].model) == simulated_final_cid(run)
        _assert_no_split_and_no_live_slash(run, {n.account.address for n in run.nodes})
        _audit_through(run, "shop-2", capsys)


def test_an_update_served_to_one_member_only_is_judged_the_same_by_all(tmp_path, capsys):
    # The victim hands its update to one other shop's node and is gone before anyone else
    # asks: whatever the committee then fetches (from that node, by bitswap), all of it
    # reads the same availability records and reveals the same result.
    with demo_run(tmp_path / "demo", participants=4, rounds=1, ipfs_per_node=True) as run:
        index = _victim_index(run)
        victim, name = run.nodes[index], f"shop-{index + 1}"
        holder = f"shop-{(index + 1) % 4 + 1}"

        def submitted(progress) -> bool:
            me = run.market.member(run.posted.task, victim.account.address)
            return me.last_submitted_round == 1

        run.drive(until=submitted, poll_seconds=0.05)
        [update] = [u for u in run.market.updates(run.posted.task, 1)
                    if u.participant == victim.account.address]
        with IpfsStore(run.swarm[holder].api_url, timeout=20.0) as only:
            only.get(update.cid)
            only.pin(update.cid)
        run.kill(index)
        run.swarm[name].stop()
        last = run.drive()
        run.wait_nodes()
        assert last.state.phase == Phase.FINISHED
        [r] = read_lineage(run.market, run.posted.task).rounds
        assert all(a.member != victim.account.address for a in r.attestations)
        _assert_no_split_and_no_live_slash(
            run, {n.account.address for n in run.nodes if n is not victim})
        _audit_through(run, REQUESTER_NODE, capsys)


def test_a_seated_member_whose_ipfs_node_is_down_does_not_vote_what_it_cannot_compute(
        tmp_path, capsys):
    # The down member's process is alive, so the time keeper waits for its commit until it
    # stalls: keep that wait short here (the others act within seconds).
    with demo_run(tmp_path / "demo", participants=4, rounds=1, ipfs_per_node=True,
                  stall_seconds=30.0) as run:
        def seat_known(progress) -> bool:
            return progress.state.phase == Phase.ATTEST and progress.state.seed != bytes(32)

        progress = run.drive(until=seat_known, poll_seconds=0.05)
        seated = list(dict.fromkeys(run.market.committee(run.posted.task)))
        index = next(i for i, n in enumerate(run.nodes) if n.account.address in seated)
        down = run.nodes[index]
        run.swarm[f"shop-{index + 1}"].stop()
        attempt = progress.state.attempt

        def past_commit(p) -> bool:
            return (p.state.round, p.state.attempt) != (1, attempt) \
                or p.state.phase == Phase.REVEAL

        run.drive(until=past_commit, poll_seconds=0.05)
        run.swarm[f"shop-{index + 1}"].start()
        run.swarm.connect(f"shop-{index + 1}")
        last = run.drive()
        run.wait_nodes()
        assert last.state.phase == Phase.FINISHED
        committed = {(e["args"]["member"], e["args"]["attempt"])
                     for e in run.market.contract.events("Committed", task=run.posted.task)}
        assert (down.account.address, attempt) not in committed  # no vote it could not compute
        _assert_no_split_and_no_live_slash(
            run, {n.account.address for n in run.nodes if n is not down})
        _audit_through(run, REQUESTER_NODE, capsys)
