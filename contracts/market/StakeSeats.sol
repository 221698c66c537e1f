// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title StakeSeats: a stake-weighted committee draw that costs O(k), not O(members)
/// @notice Members' join stakes tile the line [0, totalStake): member i owns [start_i, start_i +
/// stake_i). Seat j (j = 0..k-1) of a draw from `seed` is the point
/// `uint256(keccak256(abi.encode(seed, j))) % totalStake`, owned by the member whose interval holds
/// it. Seats are drawn with replacement, so the number of seats a party holds is
/// Binomial(k, its stake / totalStake) however it splits that stake over accounts: Sybils buy
/// nothing. Checking one member's seats reads only its own interval and hashes k points, the same
/// gas at 10 or 10 million members. `ledger/committee.py` reproduces the draw bit for bit.
library StakeSeats {
    /// @notice The point of seat `j`.
    function point(bytes32 seed, uint256 j, uint256 totalStake) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, j))) % totalStake;
    }

    /// @notice How many of the `k` seats fall in [start, start + stake).
    function seatsIn(bytes32 seed, uint256 k, uint256 totalStake, uint256 start, uint256 stake)
        internal
        pure
        returns (uint256 seats)
    {
        if (stake == 0 || totalStake == 0) return 0;
        for (uint256 j; j < k; ++j) {
            uint256 p = point(seed, j, totalStake);
            if (p >= start && p - start < stake) ++seats;
        }
    }
}
