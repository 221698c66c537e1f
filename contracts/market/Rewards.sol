// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {MarketBase} from "./MarketBase.sol";

/// @title Rewards: pull payments of each round's rewards against its final Merkle root
/// @notice Leaves are OpenZeppelin StandardMerkleTree leaves of (address account, uint256 amount):
/// `keccak256(bytes.concat(keccak256(abi.encode(account, amount))))`, pairs hashed sorted.
/// Nothing of a round is payable before its challenge window closed undisputed or its dispute was
/// resolved (an overturn replaces the root first), and nothing after the task's claim deadline
/// (unclaimed rewards then go to the requester). Only members can be paid (the claimed bitmap is
/// indexed by member index). Cumulative payouts are capped at the round's budget.
abstract contract Rewards is MarketBase {
    /// @notice Pays `account` its reward for `round` (anyone may submit the claim; funds go to `account`).
    /// @param task the task id
    /// @param round a finalized and settled round
    /// @param account the rewarded member
    /// @param amount the amount in the leaf
    /// @param proof the Merkle proof of the leaf under the round's rewards root
    function claim(uint256 task, uint16 round, address account, uint256 amount, bytes32[] calldata proof)
        external
        nonReentrant
    {
        Clock memory c = _loadClock(task);
        _claimRound(task, c, _claimDeadline(task, c, block.timestamp), round, account, amount, proof);
        _pay(_config[task].token, account, amount);
    }

    /// @notice Pays `account` its rewards for several rounds in one transaction and one payment: the
    /// same checks as `claim` for each round, all or nothing (one bad entry reverts the batch).
    /// @param task the task id
    /// @param account the rewarded member
    /// @param rounds finalized and settled rounds, each once
    /// @param amounts the amount in each round's leaf
    /// @param proofs each round's Merkle proof
    function claimRounds(
        uint256 task,
        address account,
        uint16[] calldata rounds,
        uint256[] calldata amounts,
        bytes32[][] calldata proofs
    ) external nonReentrant {
        if (rounds.length != amounts.length || rounds.length != proofs.length) {
            revert FedMarketClaimLengths(rounds.length, amounts.length, proofs.length);
        }
        if (rounds.length == 0) revert FedMarketNothingToPay(task, account);
        Clock memory c = _loadClock(task);
        uint256 deadline = _claimDeadline(task, c, block.timestamp);
        uint256 total = 0;
        for (uint256 i; i < rounds.length; ++i) {
            _claimRound(task, c, deadline, rounds[i], account, amounts[i], proofs[i]);
            total += amounts[i];
        }
        _pay(_config[task].token, account, total);
    }

    /// @dev Checks one round's claim and records it (claimed bit, round and task totals, event); the
    /// caller pays. A repeated round in a batch finds its bit set and reverts.
    function _claimRound(
        uint256 task,
        Clock memory c,
        uint256 deadline,
        uint16 round,
        address account,
        uint256 amount,
        bytes32[] calldata proof
    ) private {
        if (_rounds[task][round].state != RECORD_FINAL) revert FedMarketRoundNotFinalized(task, round);
        if (!_roundSettled(c, round, block.timestamp)) revert FedMarketRoundNotSettled(task, round);
        if (block.timestamp >= deadline) revert FedMarketClaimsClosed(task, deadline);
        _markClaimed(task, round, account);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
        if (!MerkleProof.verifyCalldata(proof, _rewardsRoot[task][round], leaf)) {
            revert FedMarketInvalidProof(task, round, account, amount);
        }
        uint256 budget = _budget(task, c, round);
        uint256 paidAfter = _paid[task][round] + amount;
        if (paidAfter > budget) revert FedMarketBudgetExceeded(task, round, budget, paidAfter);
        _paid[task][round] = paidAfter;
        _funds[task].rewardsPaid += uint128(amount);
        emit RewardClaimed(task, round, account, amount);
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
