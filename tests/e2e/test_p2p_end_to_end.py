"""A whole task with one IPFS node per participant: nothing shared but the chain and libp2p.

Four shops, each node process talking to its own js-ipfs daemon (plus one for the requester),
the daemons peered on 127.0.0.1. Every update a committee member aggregates, and every
artifact the auditor replays, crosses the network by bitswap.
"""

from __future__ import annotations

import json

import pytest

from ledger.ipfs_store import IpfsStore
from ledger.market_types import Phase
from node.cli.app import main as cli_main
from node.demo.run import REQUESTER_NODE
from tests.e2e.conftest import claims, demo_run, simulated_final_cid

pytestmark = pytest.mark.timeout(600)


def _offline_has(store: IpfsStore, cid) -> bool:
    return store.has(cid)  # `has` asks the node offline: only what it holds itself


def test_four_shops_on_four_ipfs_nodes_finish_and_audit_through_one_node(tmp_path, capsys):
    workdir = tmp_path / "demo"
    with demo_run(workdir, participants=4, rounds=2, ipfs_per_node=True, keep_rounds=1) as run:
        assert run.swarm is not None and len(run.swarm.nodes) == 5
        repos = {n.repo_dir for n in run.swarm.nodes.values()}
        assert len(repos) == 5 and not (workdir / "store").exists()
        last = run.drive()
        codes = run.wait_nodes()
        assert last.state.phase == Phase.FINISHED and set(codes.values()) == {0}
        assert str(run.market.lineage(run.posted.task)[-1].model) == simulated_final_cid(run)
        assert len(claims(run)) == 8
        updates = [u for r in (1, 2) for u in run.market.updates(run.posted.task, r)]
        assert len(updates) == 8
        shop_of = {n.account.address: f"shop-{i}" for i, n in enumerate(run.nodes, 1)}
        requester = IpfsStore(run.swarm[REQUESTER_NODE].api_url, timeout=20.0)
        # What shop-1's own node keeps (`store ls`): with --keep-rounds 1 its round-1 update
        # is unpinned once round 1's claim is decided, its round-2 update stays pinned.
        capsys.readouterr()
        assert cli_main(["store", "ls", "--task", str(run.posted.task), "--json",
                         "--ipfs", run.swarm["shop-1"].api_url, "--rpc", run.chain.rpc_url,
                         "--deployment", str(workdir / "deployment.json")]) == 0
        listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [(r["kind"], r["round"]) for r in listed] == [
            ("manifest", 0), ("genesis", 0), *[("update", 1)] * 4, ("model", 1),
            *[("update", 2)] * 4, ("model", 2)]
        own = {r["round"]: r for r in listed
               if r["kind"] == "update" and r["owner"] == run.nodes[0].account.address}
        assert own[1]["held"] and not own[1]["pinned"]
        assert own[2]["held"] and own[2]["pinned"]
        assert next(r["pinned"] for r in listed if r["kind"] == "model") is False  # released
        # Each update sits on its submitter's own node; the requester never held one.
        for u in updates:
            own = IpfsStore(run.swarm[shop_of[u.participant]].api_url)
            assert _offline_has(own, u.cid)
            assert not _offline_has(requester, u.cid)
        # The auditor holds the requester's node only: every update and model it replays
        # comes by bitswap from the nodes that hold them, and the replay matches bit for bit.
        capsys.readouterr()
        code = cli_main(["audit", str(run.posted.task), "--rpc", run.chain.rpc_url,
                         "--deployment", str(workdir / "deployment.json"),
                         "--ipfs", requester.api_url, "--replay"])
        out = capsys.readouterr().out
        assert code == 0, out
        assert "checks passed" in out and "FAILED" not in out
        assert all(_offline_has(requester, u.cid) for u in updates)
    # Afterwards the work directory alone (saved chain, the five repos) replays the lineage:
    # the audit starts the demo's IPFS nodes and reads through the requester's.
    capsys.readouterr()
    assert cli_main(["audit", "1", "--workdir", str(workdir), "--replay"]) == 0
    out = capsys.readouterr().out
    assert out.count("round.availability: 4 of 4 updates available") == 2, out
    assert "checks passed (task 1, rounds 1..2)" in out
