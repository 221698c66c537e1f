"""ledger.committee: the stake-weighted seat draw (on-chain equality in tests/contracts)."""

from __future__ import annotations

import pytest

from ledger.committee import CommitteeError, seat_owners, seat_points, seats_in

SEED = bytes(range(32))


def test_points_are_fixed_and_seed_dependent():
    points = seat_points(SEED, 5, 1000)
    assert points == seat_points(SEED, 5, 1000)
    assert points == [824, 376, 618, 130, 896]
    assert seat_points(bytes(32), 5, 1000) != points


def test_owners_follow_stake_intervals():
    members = ["a", "b", "c"]
    # intervals a [0, 150), b [150, 850), c [850, 1000)
    owners = seat_owners(SEED, 5, members, [150, 700, 150])
    assert owners == ["b", "b", "b", "a", "c"]
    assert seats_in(SEED, 5, 1000, 150, 700) == 3
    assert seats_in(SEED, 5, 1000, 850, 150) == 1
    assert seats_in(SEED, 5, 1000, 0, 0) == 0


def test_splitting_stake_changes_no_seat():
    # One party's stake [100, 900) split over two accounts holds the same seats in total.
    whole = seats_in(SEED, 21, 1000, 100, 800)
    split = seats_in(SEED, 21, 1000, 100, 300) + seats_in(SEED, 21, 1000, 400, 500)
    assert whole == split


def test_bad_draws_are_refused():
    with pytest.raises(CommitteeError):
        seat_points(b"short", 3, 10)
    with pytest.raises(CommitteeError):
        seat_points(SEED, 3, 0)
    with pytest.raises(CommitteeError):
        seat_owners(SEED, 3, ["a"], [1, 2])
