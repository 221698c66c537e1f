// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Rounds} from "./Rounds.sol";

/// @title Rewards: pull payments of each round's rewards against its agreed Merkle root
/// @notice Leaves are OpenZeppelin StandardMerkleTree leaves of (address account, uint256 amount):
/// `keccak256(bytes.concat(keccak256(abi.encode(account, amount))))`, pairs hashed sorted.
/// Only members can be paid (the claimed bitmap is indexed by member index). The contract caps
/// the round's cumulative payouts at its budget, so a lying quorum cannot drain other rounds.
abstract contract Rewards is Rounds {
    /// @notice Pays `account` its reward for `round` (anyone may submit the claim; funds go to `account`).
    /// @param task the task id
    /// @param round a finalized round
    /// @param account the rewarded member
    /// @param amount the amount in the leaf
    /// @param proof the Merkle proof of the leaf under the round's rewards root
    function claim(uint256 task, uint16 round, address account, uint256 amount, bytes32[] calldata proof)
        external
        nonReentrant
    {
        RoundRecord storage rec = _rounds[task][round];
        if (rec.finalizedAt == 0) revert FedMarketRoundNotFinalized(task, round);
        _markClaimed(task, round, account);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
        if (!MerkleProof.verifyCalldata(proof, rec.rewardsRoot, leaf)) {
            revert FedMarketInvalidProof(task, round, account, amount);
        }
        uint256 paidAfter = rec.paid + amount;
        if (paidAfter > rec.budget) revert FedMarketBudgetExceeded(task, round, rec.budget, paidAfter);
        rec.paid = uint128(paidAfter);
        emit RewardClaimed(task, round, account, amount);
        _pay(_config[task].token, account, amount);
    }

    /// @dev Sets `account`'s bit in the round's claimed bitmap (the whole claim reverts if a later check fails).
    function _markClaimed(uint256 task, uint256 round, address account) private {
        uint256 index1 = _members[task][account].index1;
        if (index1 == 0) revert FedMarketNotMember(task, account);
        uint256 bit = index1 - 1;
        mapping(uint256 => uint256) storage claimedWords = _claimed[task][round];
        uint256 word = claimedWords[bit >> 8];
        uint256 mask = 1 << (bit & 0xff);
        if (word & mask != 0) revert FedMarketAlreadyClaimed(task, round, account);
        claimedWords[bit >> 8] = word | mask;
    }
}
