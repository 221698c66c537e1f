"""ledger.committee: the draw rule (on-chain equality is tested in tests/contracts)."""

from __future__ import annotations

import pytest

from ledger.committee import CommitteeError, committee_seed, draw_committee, draw_indices

SEED = bytes(range(32))


def test_draw_is_fixed_distinct_and_seed_dependent():
    picked = draw_indices(SEED, 100, 5)
    assert picked == draw_indices(SEED, 100, 5)
    assert len(set(picked)) == 5 and all(0 <= i < 100 for i in picked)
    assert draw_indices(committee_seed(SEED, 1, 1), 100, 5) != picked
    assert sorted(draw_indices(SEED, 5, 5)) == [0, 1, 2, 3, 4]  # everyone, in draw order
    members = [f"0x{i:040x}" for i in range(100)]
    assert draw_committee(SEED, members, 5) == [members[i] for i in picked]


def test_draw_rejects_impossible_committees():
    with pytest.raises(CommitteeError):
        draw_indices(SEED, 2, 3)
    with pytest.raises(CommitteeError):
        draw_indices(b"short", 10, 3)
