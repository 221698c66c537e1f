// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketBase} from "./MarketBase.sol";

/// @title TaskEscrow: cancelling a task, and sweeping what is left to the requester
/// @notice Every wei of a task ends with a contributor, a committee member, a challenger or the
/// requester: `sweep` pays the requester the never-assigned bounty and the slash pool once the
/// task ended, and after the claim deadline also every unclaimed reward and unearned fee.
abstract contract TaskEscrow is MarketBase {
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
        _clock[task].roundStart = uint40(block.timestamp);
        uint256 amount = cfg.bounty;
        _funds[task].swept = uint128(amount) + 1; // counters are stored plus one (MarketBase.Funds)
        emit TaskCancelled(task, amount);
        _pay(cfg.token, cfg.requester, amount);
    }

    /// @notice Pays the requester what the task owes it now: once ended, the bounty never assigned
    /// to a round and the slash pool; once the claim deadline passed, also every unclaimed reward
    /// and unearned committee fee. Permissionless and callable again (late slashes add to the pool).
    /// @param task the task id
    function sweep(uint256 task) external nonReentrant {
        Clock memory c = _loadClock(task);
        uint256 end = _endTime(c, block.timestamp);
        if (end == 0) revert FedMarketTaskNotEnded(task);
        _markClosed(task, c);
        Config storage cfg = _config[task];
        Funds memory f = _funds[task]; // every counter is stored plus one
        uint256 owed = uint256(f.pool) - 1 + cfg.bounty;
        if (block.timestamp >= end + cfg.claimDuration) owed -= uint256(f.rewardsPaid) + f.feesEarned - 2;
        else owed -= _allocated(cfg, c.round - 1);
        uint256 due = owed - (f.swept - 1);
        if (due == 0) revert FedMarketNothingToPay(task, cfg.requester);
        _funds[task].swept = f.swept + uint128(due);
        emit Swept(task, cfg.requester, due);
        _pay(cfg.token, cfg.requester, due);
    }

    /// @dev The bounty assigned to the first `finalized` rounds.
    function _allocated(Config storage cfg, uint256 finalized) private view returns (uint256) {
        if (finalized >= cfg.rounds) return cfg.bounty;
        return finalized * (cfg.bounty / cfg.rounds);
    }
}
