// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title CohortDraw: a round's trainers, K of n members, checked in O(1) gas per member
/// @notice The cohort of a round is the first `k` positions of a pseudo-random permutation of the
/// member indices [0, n) keyed by the round's cohort seed: member i trains iff
/// `position(seed, i, n) < k`. The permutation is a 4-round balanced Feistel network on the
/// smallest even number of bits b with 2^b >= n (round function: the low b/2 bits of
/// `keccak256(abi.encode(seed, roundIndex, half))`), restricted to [0, n) by cycle walking
/// (re-applying it until the value falls below n; fewer than 4 steps expected since 2^b < 4n).
/// Drawing costs one seed and nothing per member; checking a member hashes a constant number of
/// times whatever n is, so a round's gas grows with K, never with n. Exactly min(k, n) members
/// are drawn, each with the same chance, without replacement. `ledger/cohort.py` reproduces it bit
/// for bit (and inverts it to list the cohort in O(k)).
library CohortDraw {
    uint256 internal constant FEISTEL_ROUNDS = 4;

    /// @notice Whether member `index` (0-based join order) is among the `k` drawn of `n`.
    function contains(bytes32 seed, uint256 index, uint256 n, uint256 k) internal pure returns (bool) {
        return k >= n || position(seed, index, n) < k;
    }

    /// @notice Where member `index` lands in the seed's permutation of [0, n) (index < n).
    function position(bytes32 seed, uint256 index, uint256 n) internal pure returns (uint256 x) {
        uint256 half = 1;
        while ((uint256(1) << (2 * half)) < n) ++half;
        uint256 mask = (uint256(1) << half) - 1;
        x = index;
        // The walk ends: x's cycle under the permutation contains index itself, which is < n.
        do {
            x = _permute(seed, x, half, mask);
        } while (x >= n);
    }

    function _permute(bytes32 seed, uint256 x, uint256 half, uint256 mask) private pure returns (uint256) {
        uint256 left = x >> half;
        uint256 right = x & mask;
        for (uint256 i; i < FEISTEL_ROUNDS; ++i) {
            uint256 f = uint256(keccak256(abi.encode(seed, i, right))) & mask;
            (left, right) = (right, left ^ f);
        }
        return (left << half) | right;
    }
}
