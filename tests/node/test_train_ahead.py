"""Training ahead: the kept update is the bytes training in the window would give, it is used
only on the parent it was trained on, and never in tasks where an update needs more than the
parent (DP, secure, a sampled cohort) or past the last round.

The node is a fake holding a real manifest, real data and real training; the chain runs are
the e2e tests' (``tests/e2e``), where every final model equals the simulator's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ledger.market_types import Phase
from ledger.unixfs import cid_of
from node.learning.task import client_update_bytes, genesis_model_bytes
from node.requester.presets import preset_manifest
from node.runtime.train_ahead import TrainAhead
from node.sim.setup import SimulationSetup, build_clients

ROUNDS = 3


@pytest.fixture(scope="module")
def world():
    manifest = preset_manifest("shoppers", rounds=ROUNDS)
    client = build_clients(manifest, SimulationSetup(partition="natural"))[1]
    genesis = genesis_model_bytes(manifest)
    # "our result" of round 1: any other valid model file will do (round 1's update applied
    # is not needed here, only a model that differs from genesis)
    other = client_update_bytes(manifest, genesis, client, client.client_id, 9)[0]
    return manifest, client, genesis, other


def _node(world, *, cohort=0, dp=None, privacy="open"):
    manifest, client, genesis, ours = world
    if dp is not None or privacy != "open":  # only these two fields are read before refusing
        manifest = SimpleNamespace(dp=dp, privacy=privacy)
    ours_cid = cid_of(ours)
    store = {cid_of(genesis): genesis}
    node = SimpleNamespace(
        view=SimpleNamespace(manifest=manifest,
                             params=SimpleNamespace(rounds=ROUNDS, min_submissions=2,
                                                    cohort_size=cohort)),
        data=client, client_id=client.client_id, fetch=lambda cid: store[cid],
        outcome=lambda round_, parent, attempt: SimpleNamespace(model=ours_cid,
                                                                model_bytes=ours))
    return node, cid_of(genesis), ours_cid


def _state(phase, round_, parent, submissions=5):
    return SimpleNamespace(phase=phase, round=round_, parent=parent, attempt=0,
                           submissions=submissions)


def test_round_one_is_trained_in_the_join_window(world):
    manifest, client, genesis, _ = world
    node, genesis_cid, _ = _node(world)
    ahead = TrainAhead(node)
    assert ahead.step(_state(Phase.PENDING, 1, genesis_cid), 0).startswith("trained round 1")
    assert ahead.step(_state(Phase.PENDING, 1, genesis_cid), 0) is None  # kept: not again
    expected = client_update_bytes(manifest, genesis, client, client.client_id, 1)
    assert ahead.update(1, genesis_cid, genesis) == expected
    assert ahead.used == [1]


def test_the_next_round_is_trained_on_our_result_and_used_only_on_it(world):
    manifest, client, genesis, ours = world
    node, genesis_cid, ours_cid = _node(world)
    ahead = TrainAhead(node)
    assert ahead.step(_state(Phase.COMMIT, 1, genesis_cid), 1) == \
        f"trained round 2 ahead on parent {ours_cid}"
    assert ahead.step(_state(Phase.REVEAL, 1, genesis_cid), 1) is None  # kept
    # the quorum finalized something else: round 2 trains on the chain's parent, now
    assert ahead.update(2, genesis_cid, genesis) == client_update_bytes(
        manifest, genesis, client, client.client_id, 2)
    assert ahead.used == []
    ahead.step(_state(Phase.COMMIT, 1, genesis_cid), 1)
    assert ahead.update(2, ours_cid, ours) == client_update_bytes(
        manifest, ours, client, client.client_id, 2)
    assert ahead.used == [2]


@pytest.mark.parametrize("phase, round_, submitted", [
    (Phase.TRAIN, 1, 0),           # training now is the ordinary path
    (Phase.ATTEST, 1, 1),          # the attempt's result needs its availability records
    (Phase.COMMIT, ROUNDS, ROUNDS),  # the last round: nothing follows
    (Phase.PENDING, 2, 2),         # a challenge window, round 2 already submitted (restart)
    (Phase.COMMIT, 1, 2),          # already submitted round 2 (a restart mid-task)
])
def test_when_nothing_is_trained_ahead(world, phase, round_, submitted):
    node, genesis_cid, _ = _node(world)
    assert TrainAhead(node).step(_state(phase, round_, genesis_cid), submitted) is None


def test_tasks_where_an_update_needs_more_than_its_parent(world):
    for node, genesis_cid, _ in (_node(world, cohort=2), _node(world, privacy="secure"),
                                 _node(world, dp=SimpleNamespace(level="update"))):
        assert TrainAhead(node).step(_state(Phase.PENDING, 1, genesis_cid), 0) is None


def test_a_challenge_window_trains_on_the_finalized_parent(world):
    manifest, client, genesis, _ = world
    node, genesis_cid, _ = _node(world)
    ahead = TrainAhead(node)
    assert ahead.step(_state(Phase.PENDING, 2, genesis_cid), 1) == \
        f"trained round 2 ahead on parent {genesis_cid}"
    assert ahead.update(2, genesis_cid, genesis) == client_update_bytes(
        manifest, genesis, client, client.client_id, 2)


def test_too_few_submissions_for_a_result(world):
    node, genesis_cid, _ = _node(world)
    assert TrainAhead(node).step(_state(Phase.COMMIT, 1, genesis_cid, submissions=1), 1) is None
