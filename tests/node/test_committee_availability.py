"""``compute_round`` under on-chain availability: the counted set decides, not the fetches.

Three shops' real updates (shoppers preset, region shards). A member that was served an
update the committee did not count must leave it out exactly as one that never saw it; a
member that cannot fetch a counted update must not produce a result at all.
"""

from __future__ import annotations

import pytest

from ledger.content_errors import BlockNotFoundError
from ledger.market_types import Update
from ledger.unixfs import cid_of
from node.learning.task import client_update_bytes, genesis_model_bytes
from node.requester.presets import preset_manifest
from node.runtime.committee import compute_round
from node.sim.setup import SimulationSetup, build_clients
from tests.node.secure_round_kit import ADDRS, PARAMS, ROUND


@pytest.fixture(scope="module")
def round_inputs():
    manifest = preset_manifest("shoppers", rounds=2)
    clients = build_clients(manifest, SimulationSetup(partition="natural", column="Region"))[:3]
    parent = genesis_model_bytes(manifest)
    store, updates = {}, []
    for seq, (client, who) in enumerate(zip(clients, ADDRS)):
        data, samples = client_update_bytes(manifest, parent, client, client.client_id, ROUND)
        cid = cid_of(data)
        store[cid] = data
        updates.append(Update(ROUND, who, cid.digest, cid.codec, samples, seq, bytes(32)))
    return manifest, parent, store, updates


def _fetch(store, missing=()):
    def fetch(cid):
        if cid in missing or cid not in store:
            raise BlockNotFoundError(cid, "not on this node")
        return store[cid]
    return fetch


def test_an_uncounted_update_is_left_out_by_a_member_that_holds_it(round_inputs) -> None:
    manifest, parent, store, updates = round_inputs
    skipped = {1: "not available on chain: committee members holding 1 seat(s) attested it, "
                  "2 needed"}
    holds_all = compute_round(manifest, PARAMS, ROUND, parent, updates, _fetch(store),
                              not_counted=skipped)
    lacks_it = compute_round(manifest, PARAMS, ROUND, parent, updates,
                             _fetch(store, missing={updates[1].cid}), not_counted=skipped)
    assert (holds_all.model, holds_all.rewards_root) == (lacks_it.model, lacks_it.rewards_root)
    assert holds_all.excluded == ((ADDRS[1], skipped[1]),)
    assert [who for who, _ in holds_all.rewards] == [ADDRS[0], ADDRS[2]]
    everything = compute_round(manifest, PARAMS, ROUND, parent, updates, _fetch(store),
                               not_counted={})
    assert everything.model != holds_all.model and everything.excluded == ()


def test_a_counted_update_the_member_cannot_fetch_stops_its_computation(round_inputs) -> None:
    manifest, parent, store, updates = round_inputs
    with pytest.raises(BlockNotFoundError):
        compute_round(manifest, PARAMS, ROUND, parent, updates,
                      _fetch(store, missing={updates[2].cid}), not_counted={})
    # Without availability records (not_counted None: the pre-availability rule) the same
    # gap is an exclusion, which is what let two members compute two results.
    old_rule = compute_round(manifest, PARAMS, ROUND, parent, updates,
                             _fetch(store, missing={updates[2].cid}))
    assert [who for who, _ in old_rule.excluded] == [ADDRS[2]]
