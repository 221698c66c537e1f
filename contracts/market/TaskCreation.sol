// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketBase} from "./MarketBase.sol";

/// @title TaskCreation: posting a task, its terms validated once and fixed forever
/// @notice A task's bounty, its members' stakes and challenge bonds are one asset: ETH when
/// `token == address(0)`, else one ERC-20 moved with SafeERC20 (fee-on-transfer and rebasing
/// tokens are not supported). Round r's share of the bounty is `bounty / rounds` (the last round
/// also gets the remainder): `committeeFee` per committee seat is reserved from it and the rest is
/// the round's rewards budget.
abstract contract TaskCreation is MarketBase {
    /// @notice Creates a task and escrows its bounty (msg.value for ETH, transferFrom for an ERC-20).
    /// @dev Round 1 starts `joinDuration` seconds from now; joining and cancelling end then.
    /// @param p the task parameters, validated here and fixed forever (all emitted in `TaskCreated`)
    /// @return task the new task id (1-based)
    function createTask(TaskParams calldata p) external payable nonReentrant returns (uint256 task) {
        _validate(p);
        task = ++_taskCount;
        uint40 start = uint40(block.timestamp + p.joinDuration);
        _config[task] = Config({
            requester: msg.sender,
            rounds: p.rounds,
            minSubmissions: p.minSubmissions,
            maxParticipants: p.maxParticipants,
            slashBps: p.slashBps,
            token: p.token,
            minStake: p.minStake,
            bounty: p.bounty,
            committeeFee: p.committeeFee,
            disputeSize: p.disputeSize,
            cohortSize: uint24(p.cohortSize),
            manifestDigest: p.manifestDigest,
            genesisDigest: p.genesisDigest,
            manifestCodec: p.manifestCodec,
            genesisCodec: p.genesisCodec,
            startTime: start,
            joinDuration: p.joinDuration,
            claimDuration: p.claimDuration,
            challengeBond: p.challengeBond
        });
        _clock[task] = Clock({
            roundStart: start,
            round: 1,
            rounds: p.rounds,
            submissions: 0,
            memberCount: 0,
            trainDuration: uint24(p.trainDuration),
            commitDuration: uint24(p.commitDuration),
            revealDuration: uint24(p.revealDuration),
            challengeDuration: uint24(p.challengeDuration),
            maxRetries: p.maxRetries,
            status: STATUS_OPEN,
            committeeSize: p.committeeSize,
            quorum: p.quorum,
            sampled: p.cohortSize != 0
        });
        _updateHead[task] = SENTINEL;
        _funds[task] = Funds({pool: 1, swept: 1, rewardsPaid: 1, feesEarned: 1}); // stored plus one
        _seed[task] = SENTINEL;
        _pull(p.token, p.bounty);
        emit TaskCreated(task, msg.sender, p.token, p, start);
    }

    function _validate(TaskParams calldata p) private view {
        if (p.rounds == 0 || p.rounds >= type(uint16).max) revert FedMarketBadRounds(p.rounds);
        if (p.bounty == 0) revert FedMarketZeroBounty();
        if (p.manifestDigest == bytes32(0) || p.genesisDigest == bytes32(0)) revert FedMarketZeroDigest();
        if (p.committeeSize == 0 || p.committeeSize > MAX_COMMITTEE) {
            revert FedMarketBadCommitteeSize(p.committeeSize, MAX_COMMITTEE);
        }
        if (p.quorum > p.committeeSize || 2 * uint256(p.quorum) <= p.committeeSize) {
            revert FedMarketBadQuorum(p.quorum, p.committeeSize);
        }
        if (p.disputeSize <= p.committeeSize || p.disputeSize > MAX_DISPUTE) {
            revert FedMarketBadDisputeSize(p.disputeSize, p.committeeSize, MAX_DISPUTE);
        }
        _validateTimes(p);
        if (p.minSubmissions == 0) revert FedMarketZeroMinSubmissions();
        if (p.cohortSize != 0 && (p.cohortSize < p.minSubmissions || p.cohortSize > MAX_PARTICIPANTS)) {
            revert FedMarketBadCohortSize(p.cohortSize, p.minSubmissions);
        }
        uint256 needed = p.minSubmissions > p.committeeSize ? p.minSubmissions : p.committeeSize;
        if (p.maxParticipants < needed) revert FedMarketParticipantCapTooSmall(p.maxParticipants, needed);
        if (p.maxParticipants > MAX_PARTICIPANTS) {
            revert FedMarketParticipantCapTooLarge(p.maxParticipants, MAX_PARTICIPANTS);
        }
        if (p.minStake == 0) revert FedMarketZeroStake();
        if (p.challengeBond == 0) revert FedMarketZeroBond();
        if (p.slashBps == 0 || p.slashBps > 10_000) revert FedMarketBadSlash(p.slashBps);
        uint256 fees = uint256(p.committeeFee) * p.committeeSize;
        uint256 share = p.bounty / p.rounds;
        if (fees > share) revert FedMarketFeesExceedShare(fees, share);
        // Every balance is bounded by all the task's assets: bounty + bonds + stakes (checked at join).
        uint256 assets = uint256(p.bounty) + uint256(p.challengeBond) * p.rounds;
        if (assets > type(uint96).max) revert FedMarketAmountTooLarge(assets);
    }

    function _validateTimes(TaskParams calldata p) private view {
        if (
            p.joinDuration == 0 || p.trainDuration == 0 || p.commitDuration == 0 || p.revealDuration == 0
                || p.challengeDuration == 0 || p.claimDuration == 0
        ) revert FedMarketZeroDuration();
        if (p.commitDuration < 2) revert FedMarketCommitTooShort(p.commitDuration);
        uint256 longest = p.trainDuration;
        if (p.commitDuration > longest) longest = p.commitDuration;
        if (p.revealDuration > longest) longest = p.revealDuration;
        if (p.challengeDuration > longest) longest = p.challengeDuration;
        if (longest > MAX_DURATION) revert FedMarketDurationTooLong(longest, MAX_DURATION);
        uint256 attempt = uint256(p.trainDuration) + 2 * uint256(p.commitDuration) + p.revealDuration;
        uint256 perRound = (uint256(p.maxRetries) + 1) * attempt + p.challengeDuration + p.commitDuration
            + p.revealDuration;
        uint256 horizon = block.timestamp + p.joinDuration + uint256(p.rounds) * perRound + p.claimDuration;
        if (horizon >= HELD) revert FedMarketHorizonTooFar(horizon);
    }
}
