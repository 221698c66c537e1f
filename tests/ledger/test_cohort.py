"""The cohort draw reproduced off chain (``ledger.cohort``): a permutation, its inverse, pinned
vectors, and an even chance for every member. The contract's agreement with it is checked in
``tests/contracts/test_market_cohort.py``."""

from __future__ import annotations

import hashlib

import pytest

from ledger.cohort import CohortError, cohort_indices, cohort_members, in_cohort, position

SEED = hashlib.sha256(b"cohort-vector").digest()


def test_pinned_vectors():
    # Pinned once from this implementation; the contract reproduces the 12-member one on chain.
    assert SEED.hex() == "9d6a4a01be5fa955d16753ec964237fe12ec47b0425819d8f6b918bd9a6ac58d"
    assert cohort_indices(SEED, 12, 4) == [3, 11, 4, 7]
    assert cohort_indices(SEED, 1000, 5) == [871, 278, 151, 616, 363]
    assert cohort_indices(SEED, 100_000, 5) == [47175, 51772, 49225, 95806, 61733]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 12, 17, 64, 65, 257, 1000])
def test_position_is_a_permutation_and_listing_inverts_it(n):
    positions = [position(SEED, i, n) for i in range(n)]
    assert sorted(positions) == list(range(n))
    listed = cohort_indices(SEED, n, n - 1)
    assert [positions[i] for i in listed] == list(range(n - 1))
    assert [in_cohort(SEED, i, n, n // 2) for i in range(n)] == [p < n // 2 for p in positions]


def test_everyone_when_the_cohort_is_not_smaller_than_the_membership():
    assert cohort_indices(SEED, 5, 5) == [0, 1, 2, 3, 4]
    assert cohort_indices(SEED, 5, 9) == [0, 1, 2, 3, 4]
    assert all(in_cohort(SEED, i, 5, 5) for i in range(5))
    assert cohort_members(SEED, ["a", "b", "c"], 7) == ["a", "b", "c"]


def test_each_member_is_drawn_about_k_over_n_of_the_time():
    n, k, draws = 12, 4, 3000
    counts = [0] * n
    for s in range(draws):
        for i in cohort_indices(hashlib.sha256(s.to_bytes(4, "big")).digest(), n, k):
            counts[i] += 1
    assert sum(counts) == k * draws
    # Binomial(3000, 1/3): mean 1000, sd 25.8; 4 sd either side.
    assert all(897 <= c <= 1103 for c in counts), counts


def test_a_different_seed_draws_a_different_cohort():
    other = hashlib.sha256(b"another").digest()
    assert cohort_indices(other, 1000, 5) != cohort_indices(SEED, 1000, 5)


def test_bad_input_is_refused():
    with pytest.raises(CohortError, match="32 bytes"):
        position(b"short", 0, 4)
    with pytest.raises(CohortError, match=r"outside \[0, 4\)"):
        position(SEED, 4, 4)
    with pytest.raises(CohortError, match=r"outside \[0, 3\)"):
        in_cohort(SEED, -1, 3, 1)
    with pytest.raises(CohortError, match="cannot draw"):
        cohort_indices(SEED, 3, -1)
