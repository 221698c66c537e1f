"""Secure tasks end to end: real anvil, one OS process per participant, masked updates.

The reference is computed in-process from the same shops, keys and chain order: each
participant's update masked exactly as its node masks it, the survivors' reveals, and
``secure_aggregate_round``. The chain's final model must be that reference byte for byte,
and each round's secure aggregate must equal the open-mode aggregate of the same plain
updates within the fixed-point resolution (compared on decoded weights).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ledger.manifest import DpSettings
from ledger.market_types import Phase
from ledger.task_view import load_task
from ledger.unixfs import cid_str
from node.aggregation.round import aggregate_round
from node.aggregation.secure_round import Submission, round_ring_params, secure_aggregate_round
from node.cli.app import main as cli_main
from node.codec.flat import layout_size
from node.codec.safetensors import expected_layout
from node.demo.run import DemoConfig, DemoRun
from node.demo.timekeeper import TimeKeeper
from node.learning.task import client_update_bytes, genesis_model_bytes, model_of, model_weights
from node.privacy.dp import epsilon_spent
from node.privacy.keys import agreement_private_key, agreement_public_key
from node.privacy.secagg import decode_masked, reveal_seeds
from node.requester.presets import preset_manifest
from node.runtime.private_update import dp_secret, private_payload, record_noise_key
from tests.e2e.conftest import MAX_RETRIES, STALL_SECONDS, claims, submissions_by_round

pytestmark = pytest.mark.timeout(480)

SIZE = layout_size(expected_layout(model_of(preset_manifest("shoppers"))))


@contextmanager
def secure_run(workdir: Path, *, participants: int = 3, rounds: int = 2,
               dp: DpSettings | None = None) -> Iterator[DemoRun]:
    run = DemoRun.start(DemoConfig(workdir=workdir, participants=participants, rounds=rounds,
                                   privacy="secure", dp=dp, stall_seconds=STALL_SECONDS,
                                   timeout=400.0, max_retries=MAX_RETRIES))
    try:
        yield run
    finally:
        run.close()


def secure_reference(run: DemoRun) -> tuple[bytes, float]:
    """The final model computed in-process from the chain's submitter lists, and the largest
    weight difference, over all rounds, between each secure round and the open-mode
    aggregate of the same plain updates from the same parent."""
    task = run.posted.task
    manifest = load_task(run.market, run.store, task).manifest
    members = [m.lower() for m in run.market.members(task)]
    nodes = {n.account.address.lower(): n for n in run.nodes}
    clients = {c.client_id: c for c in run.clients}
    pubs = {m: agreement_public_key(nodes[m].account) for m in members}
    params = round_ring_params(members=len(members), max_samples=manifest.max_samples,
                               dp=manifest.dp)
    layout = expected_layout(model_of(manifest))
    model = genesis_model_bytes(manifest)
    worst = 0.0
    for round_, submitters in sorted(submissions_by_round(run).items()):
        subs, plains = [], []
        for address in (a.lower() for a in submitters):
            node = nodes[address]
            record = manifest.dp is not None and manifest.dp.level == "record"
            key = record_noise_key(dp_secret(bytes(node.account.key)), task=task,
                                   round_index=round_) if record else None
            plain, n = client_update_bytes(manifest, model, clients[node.client_id],
                                           node.client_id, round_, noise_key=key)
            plains.append((plain, n))
            masked, _ = private_payload(
                manifest, plain, n, task=task, round_index=round_, own=address,
                secret=dp_secret(bytes(node.account.key)), rounds_before=round_ - 1,
                agreement_key=agreement_private_key(node.account),
                peers={m: pubs[m] for m in members if m != address})
            subs.append(Submission(address, masked, n))
        dropped = {m: pubs[m] for m in members if m not in {s.member for s in subs}}
        reveals = {s.member: reveal_seeds(agreement_private_key(nodes[s.member].account),
                                          own=s.member, dropped=dropped, task=task,
                                          round_index=round_)
                   for s in subs} if dropped and len(subs) >= manifest.noise_shares else {}
        opened = aggregate_round(model, plains, content_key=cid_str, layout=layout, rule=manifest.aggregation,
                                 max_samples=manifest.max_samples, round_index=round_)
        model = secure_aggregate_round(
            model, subs, mask_set=members, reveals=reveals, task=task, round_index=round_,
            params=params, layout=layout, rule=manifest.aggregation,
            max_samples=manifest.max_samples, min_updates=manifest.noise_shares).model_bytes
        if manifest.dp is None:  # with DP the open aggregate would need the noised files
            secure_w = model_weights(manifest, model)
            open_w = model_weights(manifest, opened.model_bytes)
            worst = max([worst] + [float((secure_w[k].double() - open_w[k].double()).abs().max())
                                   for k in open_w])
    return model, worst


def _final(run: DemoRun) -> bytes:
    return run.store.get(run.market.lineage(run.posted.task)[-1].model)


def _seed_reveals(run: DemoRun) -> dict[int, set[str]]:
    reveals = run.deployment.seed_reveals_at(run.chain.w3)
    return {r: {e.member for e in reveals.reveals(run.posted.task, r)}
            for r in range(1, run.config.rounds + 1)}


def _audit_replay(workdir: Path) -> int:
    return cli_main(["audit", "1", "--workdir", str(workdir), "--replay", "--json"])


def test_secure_task_finalizes_equal_to_open_simulation(tmp_path, capsys):
    workdir = tmp_path / "demo"
    with secure_run(workdir) as run:
        last = run.drive()
        codes = run.wait_nodes()
        assert last.state.phase == Phase.FINISHED and set(codes.values()) == {0}
        by_round = submissions_by_round(run)
        assert {r: len(v) for r, v in by_round.items()} == {1: 3, 2: 3}
        assert _seed_reveals(run) == {1: set(), 2: set()}  # nobody dropped: nothing revealed
        final = _final(run)
        # Only masked files went on chain: each is a U64 ring vector, not a float update.
        first = run.market.updates(run.posted.task, 1)[0]
        masked = decode_masked(run.store.get(first.cid), size=SIZE)
        assert masked.member == first.participant.lower() and masked.round == 1
        reference, worst = secure_reference(run)
        assert final == reference
        # Ring error ~1e-15 per coordinate: below float32 rounding of weights near 1.
        assert worst <= 2**-24, worst
        paid = claims(run)
        assert len(paid) == 6
    capsys.readouterr()
    assert _audit_replay(workdir) == 0
    assert '"replay.model"' in capsys.readouterr().out


def test_a_third_drops_after_joining_and_survivors_reveals_recover_each_round(tmp_path, capsys):
    workdir = tmp_path / "demo"
    dp = DpSettings(clip_norm=1.0, noise_multiplier=0.7, delta=1e-5)
    with secure_run(workdir, dp=dp) as run:
        keeper = TimeKeeper(run.chain, run.market, run.posted.task, live=run.live_addresses)
        deadline = time.monotonic() + 300  # process start-up (torch import) under load
        while keeper.progress().members < 3:  # no ticking: the 600 s join window stays open
            assert time.monotonic() < deadline, "nodes did not join"
            time.sleep(0.1)
        run.kill(2)  # joined (in the mask set), never submits
        gone = run.nodes[2].account.address
        last = run.drive()
        run.wait_nodes()
        assert last.state.phase == Phase.FINISHED
        survivors = {run.nodes[0].account.address, run.nodes[1].account.address}
        by_round = submissions_by_round(run)
        assert {r: set(v) for r, v in by_round.items()} == {1: survivors, 2: survivors}
        assert _seed_reveals(run) == {1: survivors, 2: survivors}
        assert _final(run) == secure_reference(run)[0]
        # DP: every masked file states the epsilon its author spent so far.
        for round_ in (1, 2):
            for update in run.market.updates(run.posted.task, round_):
                meta = decode_masked(run.store.get(update.cid), size=SIZE).metadata
                assert meta["fedledger.dp.epsilon"] == repr(epsilon_spent(0.7, round_, 1e-5))
        paid = {a for _, a, _ in claims(run)}
        assert paid == survivors and gone not in paid
    capsys.readouterr()
    assert _audit_replay(workdir) == 0
    out = capsys.readouterr().out
    assert gone.lower() in out  # the replay lists the recovered (dropped) member



DISTRIBUTED = DpSettings(clip_norm=1.0, noise_multiplier=0.9, delta=1e-5, level="record",
                         noise_shares=3)


def _weights(run: DemoRun, cid) -> dict:
    manifest = load_task(run.market, run.store, run.posted.task).manifest
    return model_weights(manifest, run.store.get(cid))


def _dp_metadata(run: DemoRun, round_: int) -> list[dict[str, str]]:
    return [decode_masked(run.store.get(u.cid), size=SIZE).metadata
            for u in run.market.updates(run.posted.task, round_)]


def test_distributed_dp_sum_of_every_share_matches_the_reference(tmp_path, capsys):
    workdir = tmp_path / "demo"
    with secure_run(workdir, dp=DISTRIBUTED) as run:
        last = run.drive()
        assert last.state.phase == Phase.FINISHED and set(run.wait_nodes().values()) == {0}
        assert {r: len(v) for r, v in submissions_by_round(run).items()} == {1: 3, 2: 3}
        for round_ in (1, 2):  # one full-batch release per round: epsilon of z over rounds
            assert [(m["fedledger.dp.shares"], m["fedledger.dp.epsilon"])
                    for m in _dp_metadata(run, round_)] == [
                ("3", repr(epsilon_spent(0.9, round_, 1e-5)))] * 3
        genesis = _weights(run, run.posted.genesis)
        final = _final(run)
        assert final == secure_reference(run)[0]
        moved = _weights(run, run.market.lineage(run.posted.task)[-1].model)
        assert any(not (moved[k] == genesis[k]).all() for k in genesis)
        assert len(claims(run)) == 6
    capsys.readouterr()
    assert _audit_replay(workdir) == 0
    # Every update's privacy claim is shown and matches the manifest and the chain.
    checks = json.loads(capsys.readouterr().out)["checks"]
    assert [c["ok"] for c in checks if c["name"] == "replay.dp-claim"] == [True] * 6


def test_distributed_dp_sum_short_of_its_shares_stays_masked(tmp_path, capsys):
    workdir = tmp_path / "demo"
    with secure_run(workdir, dp=DISTRIBUTED) as run:
        keeper = TimeKeeper(run.chain, run.market, run.posted.task, live=run.live_addresses)
        deadline = time.monotonic() + 300
        while keeper.progress().members < 3:
            assert time.monotonic() < deadline, "nodes did not join"
            time.sleep(0.1)
        run.kill(2)  # in the mask set: the two survivors hold 2 of the 3 noise shares
        last = run.drive()
        run.wait_nodes()
        assert last.state.phase == Phase.FINISHED
        assert {r: len(v) for r, v in submissions_by_round(run).items()} == {1: 2, 2: 2}
        assert _seed_reveals(run) == {1: set(), 2: set()}  # nobody unmasks a short sum
        genesis = _weights(run, run.posted.genesis)
        final = _weights(run, run.market.lineage(run.posted.task)[-1].model)
        assert all((final[k] == genesis[k]).all() for k in genesis)  # parent kept twice
        assert _final(run) == secure_reference(run)[0]
        assert claims(run) == []
    capsys.readouterr()
    assert _audit_replay(workdir) == 0
    assert "distributed DP needs at least 3 noise shares" in capsys.readouterr().out
