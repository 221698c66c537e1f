"""Seed calls in turn: the first member in line sends at once, member i after i x 50 ms of
its own wall time (the clock is replaced, so nothing here sleeps)."""

from __future__ import annotations

import pytest

from node.runtime import seed_race
from node.runtime.seed_race import SLOTS, STAGGER_SECONDS, SeedRace


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [0.0]
    monkeypatch.setattr(seed_race.time, "monotonic", lambda: now[0])
    return now


def test_the_first_in_line_goes_at_once_the_others_after_their_slot(clock: list[float]) -> None:
    first, third = SeedRace(), SeedRace()
    assert first.my_turn(("seed", 1, 0), 0)
    assert not third.my_turn(("seed", 1, 0), 3)  # it first saw the window now
    clock[0] += 2 * STAGGER_SECONDS
    assert not third.my_turn(("seed", 1, 0), 3)
    clock[0] += STAGGER_SECONDS
    assert third.my_turn(("seed", 1, 0), 3)


def test_each_call_has_its_own_clock_and_slots_wrap(clock: list[float]) -> None:
    race = SeedRace()
    assert not race.my_turn(("seed", 1, 0), 1)
    clock[0] += STAGGER_SECONDS
    assert race.my_turn(("seed", 1, 0), 1)
    assert not race.my_turn(("seed", 1, 1), 1)  # a new attempt: a new wait
    assert race.my_turn(("cohort", 2), SLOTS)  # member SLOTS is first in line again
