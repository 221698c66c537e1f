// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MarketStorage} from "./MarketStorage.sol";

/// @title TaskEscrow: creating, cancelling and refunding tasks, and moving the task's asset
/// @notice A task's bounty and its members' stakes are one asset: ETH when `token == address(0)`,
/// else one ERC-20 moved with SafeERC20 (fee-on-transfer and rebasing tokens are not supported).
/// Round r's share of the bounty is `bounty / rounds` (the last round also gets the remainder);
/// it is assigned when the round finalizes. Whatever was never assigned, plus slashed stake not yet
/// assigned, is returned to the requester by `refund` once the task has ended.
abstract contract TaskEscrow is MarketStorage, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Creates a task and escrows its bounty (msg.value for ETH, transferFrom for an ERC-20).
    /// @dev Round 1 starts `joinDuration` seconds from now; joining and cancelling end then.
    /// @param p the task parameters, validated here and fixed forever
    /// @return task the new task id (1-based)
    function createTask(TaskParams calldata p) external payable nonReentrant returns (uint256 task) {
        _validate(p);
        task = ++_taskCount;
        Config storage cfg = _config[task];
        cfg.requester = msg.sender;
        cfg.rounds = p.rounds;
        cfg.minSubmissions = p.minSubmissions;
        cfg.maxParticipants = p.maxParticipants;
        cfg.slashBps = p.slashBps;
        cfg.token = p.token;
        cfg.stake = p.stake;
        cfg.bounty = p.bounty;
        cfg.committeeFee = p.committeeFee;
        cfg.manifestDigest = p.manifestDigest;
        cfg.genesisDigest = p.genesisDigest;
        cfg.manifestCodec = p.manifestCodec;
        cfg.genesisCodec = p.genesisCodec;
        bytes32 seed0 = keccak256(abi.encode(block.prevrandao, block.chainid, address(this), task));
        cfg.seed0 = seed0;
        _seedBase[task] = seed0;
        _updateHead[task] = SENTINEL;
        uint40 start = uint40(block.timestamp + p.joinDuration);
        cfg.startTime = start;
        cfg.joinDuration = p.joinDuration;
        _clock[task] = Clock({
            roundStart: start,
            round: 1,
            submissions: 0,
            memberCount: 0,
            trainDuration: p.trainDuration,
            commitDuration: p.commitDuration,
            revealDuration: p.revealDuration,
            maxRetries: p.maxRetries,
            status: STATUS_OPEN,
            committeeSize: p.committeeSize,
            quorum: p.quorum
        });
        _funds[task].unallocated = p.bounty;
        _pull(p.token, p.bounty);
        emit TaskCreated(
            task, msg.sender, p.token, p.bounty, p.manifestDigest, p.manifestCodec, p.genesisDigest, p.genesisCodec, start
        );
    }

    /// @notice Cancels a task before round 1 starts and returns the whole bounty to the requester.
    /// @dev Members who already joined withdraw their stake with `withdrawStake`.
    /// @param task the task id
    function cancelTask(uint256 task) external nonReentrant {
        Clock memory c = _loadClock(task);
        Config storage cfg = _config[task];
        if (msg.sender != cfg.requester) revert FedMarketNotRequester(task, msg.sender);
        (Phase p,,) = _phaseAt(c, block.timestamp);
        if (p != Phase.Pending || c.round != 1) revert FedMarketWrongPhase(task, p);
        _clock[task].status = STATUS_CANCELLED;
        uint256 amount = _funds[task].unallocated;
        _funds[task].unallocated = 0;
        emit TaskCancelled(task, amount);
        _pay(cfg.token, cfg.requester, amount);
    }

    /// @notice Returns the unspent bounty (unassigned rounds + unassigned slashed stake) to the requester.
    /// @dev Permissionless; callable again if more stake is slashed later. Rewards of finalized rounds
    /// stay claimable and are never refunded.
    /// @param task the task id
    function refund(uint256 task) external nonReentrant {
        Clock memory c = _loadClock(task);
        if (!_ended(c, block.timestamp)) revert FedMarketTaskNotEnded(task);
        Config storage cfg = _config[task];
        Funds memory f = _funds[task];
        uint256 amount = uint256(f.unallocated) + f.slashPool;
        if (amount == 0) revert FedMarketNothingToPay(task, cfg.requester);
        delete _funds[task];
        emit BountyRefunded(task, cfg.requester, amount);
        _pay(cfg.token, cfg.requester, amount);
    }

    function _validate(TaskParams calldata p) private pure {
        if (p.rounds == 0) revert FedMarketZeroRounds();
        if (p.bounty == 0) revert FedMarketZeroBounty();
        if (p.manifestDigest == bytes32(0) || p.genesisDigest == bytes32(0)) revert FedMarketZeroDigest();
        if (p.committeeSize == 0 || p.committeeSize > MAX_COMMITTEE) {
            revert FedMarketBadCommitteeSize(p.committeeSize, MAX_COMMITTEE);
        }
        if (p.quorum > p.committeeSize || 2 * uint256(p.quorum) <= p.committeeSize || p.quorum > MAX_QUORUM) {
            revert FedMarketBadQuorum(p.quorum, p.committeeSize);
        }
        if (p.joinDuration == 0 || p.trainDuration == 0 || p.commitDuration == 0 || p.revealDuration == 0) {
            revert FedMarketZeroDuration();
        }
        if (p.minSubmissions == 0) revert FedMarketZeroMinSubmissions();
        uint256 needed = p.minSubmissions > p.committeeSize ? p.minSubmissions : p.committeeSize;
        if (p.maxParticipants < needed) {
            revert FedMarketParticipantCapTooSmall(p.maxParticipants, needed);
        }
        if (p.maxParticipants > MAX_PARTICIPANTS) {
            revert FedMarketParticipantCapTooLarge(p.maxParticipants, MAX_PARTICIPANTS);
        }
        if (p.slashBps > 10_000) revert FedMarketSlashTooLarge(p.slashBps);
        uint256 fees = uint256(p.committeeFee) * p.quorum;
        uint256 share = p.bounty / p.rounds;
        if (fees > share) revert FedMarketFeesExceedShare(fees, share);
        uint256 maxBalance = uint256(p.stake) + uint256(p.committeeFee) * p.rounds;
        if (maxBalance > type(uint96).max) revert FedMarketAmountTooLarge(maxBalance);
    }

    /// @dev Takes `amount` of the task asset from msg.sender.
    function _pull(address token, uint256 amount) internal {
        if (token == address(0)) {
            if (msg.value != amount) revert FedMarketWrongValue(amount, msg.value);
        } else {
            if (msg.value != 0) revert FedMarketWrongValue(0, msg.value);
            IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        }
    }

    /// @dev Sends `amount` of the task asset; callers update state first (checks-effects-interactions).
    function _pay(address token, address to, uint256 amount) internal {
        if (amount == 0) return;
        if (token == address(0)) Address.sendValue(payable(to), amount);
        else IERC20(token).safeTransfer(to, amount);
    }
}
