// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title CommitteeDraw: a reproducible draw of k distinct member indices from a seed
/// @notice Pick j (j = 0..k-1) is the first `uint256(keccak256(abi.encode(seed, j, ctr))) % n`,
/// for ctr = 0, 1, 2, ..., that is not among picks 0..j-1. The draw is O(k^2) in the worst case
/// and independent of n, so membership checks cost the same at 10 or 10,000 members.
/// `ledger/committee.py` reproduces it bit for bit off chain.
library CommitteeDraw {
    /// @notice A committee of `k` cannot be drawn from `members` members.
    error CommitteeDrawTooFewMembers(uint256 members, uint256 k);

    /// @notice The committee's member indices (0-based join order), in draw order.
    /// @param seed the attempt's seed (see FedMarket.committeeSeed)
    /// @param n the number of members
    /// @param k the committee size
    function draw(bytes32 seed, uint256 n, uint256 k) internal pure returns (uint256[] memory picked) {
        if (n < k) revert CommitteeDrawTooFewMembers(n, k);
        picked = new uint256[](k);
        for (uint256 j; j < k; ++j) {
            for (uint256 ctr; ; ++ctr) {
                uint256 candidate = uint256(keccak256(abi.encode(seed, j, ctr))) % n;
                if (!_seen(picked, j, candidate)) {
                    picked[j] = candidate;
                    break;
                }
            }
        }
    }

    /// @notice Whether member `index` is drawn into the committee.
    function contains(bytes32 seed, uint256 n, uint256 k, uint256 index) internal pure returns (bool) {
        if (n == k) return index < n; // everyone sits on the committee: skip the draw
        uint256[] memory picked = draw(seed, n, k);
        for (uint256 i; i < k; ++i) {
            if (picked[i] == index) return true;
        }
        return false;
    }

    function _seen(uint256[] memory picked, uint256 upTo, uint256 candidate) private pure returns (bool) {
        for (uint256 i; i < upTo; ++i) {
            if (picked[i] == candidate) return true;
        }
        return false;
    }
}
