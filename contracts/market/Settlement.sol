// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketBase} from "./MarketBase.sol";

/// @title Settlement: settling votes (fee or slash) and slashing absentees, by anyone
/// @notice Votes are settled lazily, once nothing can change their outcome (the round's
/// challenge window closed and any dispute resolved): by the member's next vote, its withdrawal,
/// or anyone calling `settle`. A drawn member that never commits is slashed like a non-revealer by
/// anyone calling `slashAbsent` before a later attempt's seed is locked.
abstract contract Settlement is MarketBase {
    /// @notice Settles `account`'s votes whose outcome is final (fee, nothing, or slash).
    /// @dev Permissionless, so a slash cannot be dodged by never acting again.
    /// @param task the task id
    /// @param account the member whose votes are settled
    function settle(uint256 task, address account) external {
        Clock memory c = _loadClock(task);
        Member memory m = _members[task][account];
        if (m.index1 == 0) revert FedMarketNotMember(task, account);
        if (!_voteSettleable(task, c, m, block.timestamp) && !_disputeSettleable(task, m)) {
            revert FedMarketNotSettleable(task, account);
        }
        _members[task][account] = _settleAll(task, c, m, account, block.timestamp);
    }

    /// @notice Slashes `account` for holding a seat in (`round`, `attempt`) and not committing.
    /// @dev Possible from the end of that commit window until the next attempt's seed is locked
    /// (the member's vote record cannot move past the attempt before then, so "no vote recorded
    /// for it" means "did not commit"). Permissionless.
    /// @param task the task id
    /// @param account the absentee
    /// @param round the round
    /// @param attempt the attempt
    function slashAbsent(uint256 task, address account, uint16 round, uint8 attempt) external {
        Clock memory c = _loadClock(task);
        Member memory m = _members[task][account];
        if (m.index1 == 0) revert FedMarketNotMember(task, account);
        _requireAbsent(task, c, m, account, round, attempt);
        if (m.voteState != VOTE_NONE) m = _settleVote(task, m, account, block.timestamp);
        m.voteRound = round;
        m.voteAttempt = attempt;
        m.voteState = VOTE_NONE;
        _members[task][account] = _slashVote(task, round, attempt, m, account);
    }

    /// @dev Reverts unless `account` holds seats in the locked draw of (round, attempt), whose
    /// commit window is over, and recorded no vote for it.
    function _requireAbsent(uint256 task, Clock memory c, Member memory m, address account, uint16 round, uint8 attempt)
        private
        view
    {
        Draw memory d = _draw[task];
        bool committing = round == c.round && _inCommit(c, attempt);
        bool voted = m.voteRound == round && m.voteAttempt == attempt;
        if (!d.locked || d.round != round || d.attempt != attempt || committing || voted) {
            revert FedMarketNotAbsent(task, round, attempt, account);
        }
        if (_seatsOf(task, account, _seed[task], c.committeeSize, d.totalStake) == 0) {
            revert FedMarketNotInCommittee(task, round, attempt, account);
        }
    }

    /// @dev Whether time `now` is inside the commit window of `attempt` of the current round.
    function _inCommit(Clock memory c, uint256 attempt) private view returns (bool) {
        (Phase p, uint256 current,) = _phaseAt(c, block.timestamp);
        return current == attempt && (p == Phase.Commit || p == Phase.Attest || p == Phase.Train);
    }
}
