// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title CohortDraw: a round's trainers, K of n members, checked in O(1) gas per member
/// @notice The cohort of a round is the first `k` positions of a pseudo-random permutation of the
/// member indices [0, n) keyed by the round's cohort seed: member i trains iff
/// `position(seed, i, n) < k`. The permutation is a 4-round unbalanced Feistel network on the
/// smallest bit width b >= 2 with 2^b >= n: x splits into a high part of b - b/2 bits and a low
/// part of b/2 bits; even rounds xor the high part with `keccak256(abi.encode(seed, round, low))`
/// cut to its width, odd rounds the low part with the hash of the high part. It is restricted to
/// [0, n) by cycle walking (re-applying it until the value falls below n; fewer than 2 steps
/// expected since 2^b < 2n). Drawing costs one seed and nothing per member; checking a member
/// hashes a bounded number of times whatever n is, so a round's gas grows with K, not with n.
/// Exactly min(k, n) members are drawn, each with the same chance, without replacement.
/// `ledger/cohort.py` reproduces it bit for bit (and inverts it to list the cohort in O(k)).
library CohortDraw {
    uint256 internal constant FEISTEL_ROUNDS = 4;

    /// @notice Whether member `index` (0-based join order) is among the `k` drawn of `n`.
    function contains(bytes32 seed, uint256 index, uint256 n, uint256 k) internal pure returns (bool) {
        return k >= n || position(seed, index, n) < k;
    }

    /// @notice Where member `index` lands in the seed's permutation of [0, n) (index < n).
    function position(bytes32 seed, uint256 index, uint256 n) internal pure returns (uint256 x) {
        uint256 bits = 2;
        while ((uint256(1) << bits) < n) ++bits;
        uint256 low = bits / 2;
        x = index;
        // The walk ends: x's cycle under the permutation contains index itself, which is < n.
        do {
            x = _permute(seed, x, low, bits - low);
        } while (x >= n);
    }

    function _permute(bytes32 seed, uint256 x, uint256 lowBits, uint256 highBits) private pure returns (uint256) {
        uint256 high = x >> lowBits;
        uint256 low = x & ((uint256(1) << lowBits) - 1);
        for (uint256 i; i < FEISTEL_ROUNDS; ++i) {
            if (i % 2 == 0) high ^= uint256(keccak256(abi.encode(seed, i, low))) & ((uint256(1) << highBits) - 1);
            else low ^= uint256(keccak256(abi.encode(seed, i, high))) & ((uint256(1) << lowBits) - 1);
        }
        return (high << lowBits) | low;
    }
}
