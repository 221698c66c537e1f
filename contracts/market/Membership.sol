// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TaskEscrow} from "./TaskEscrow.sol";

/// @title Membership: joining with a stake, settling votes (slash or fee), withdrawing
/// @notice A member's stake sits in its packed `Member` slot as `balance`. Each member has at most
/// one unsettled committee vote (its last one). Votes for the finalized result are settled by the
/// reveal that completes the quorum (those q members earn the committee fee) or, after it, on
/// the spot; what is left is settled lazily when the member commits again, withdraws, or when
/// anyone calls `settle` after the vote's reveal window: committed but never revealed ->
/// slashed; revealed a result other than the finalized one -> slashed.
/// A slash takes `stake * slashBps / 10000` (capped at the balance) into the task's slash pool,
/// which joins the next finalized round's reward budget (or the requester's refund).
abstract contract Membership is TaskEscrow {
    /// @notice Joins a task before round 1 starts, paying the task's stake (ETH tasks: msg.value;
    /// ERC-20 tasks: transferFrom of the same token as the bounty, after `approve`).
    /// @param task the task id
    /// @param pubkey the secure-aggregation public key: 32 bytes (e.g. X25519) or 33 bytes
    /// (compressed secp256k1, first byte 0x02 or 0x03)
    function join(uint256 task, bytes calldata pubkey) external payable nonReentrant {
        Clock memory c = _loadClock(task);
        (Phase p,,) = _phaseAt(c, block.timestamp);
        if (p != Phase.Pending || c.round != 1) revert FedMarketWrongPhase(task, p);
        Config storage cfg = _config[task];
        if (c.memberCount >= cfg.maxParticipants) revert FedMarketTaskFull(task, cfg.maxParticipants);
        Member storage m = _members[task][msg.sender];
        if (m.index1 != 0) revert FedMarketAlreadyMember(task, msg.sender);
        uint8 prefix;
        bytes32 body;
        if (pubkey.length == 32) {
            body = bytes32(pubkey);
        } else if (pubkey.length == 33 && (pubkey[0] == 0x02 || pubkey[0] == 0x03)) {
            prefix = uint8(pubkey[0]);
            body = bytes32(pubkey[1:]);
        } else {
            revert FedMarketBadPubkey(pubkey.length);
        }
        uint96 stake = cfg.stake;
        uint32 index = c.memberCount;
        _members[task][msg.sender] = Member({
            balance: stake,
            index1: index + 1,
            lastSubmitted: 0,
            voteRound: 0,
            voteAttempt: 0,
            voteState: VOTE_NONE,
            pubkeyPrefix: prefix,
            withdrawn: false
        });
        _memberAt[task][index] = msg.sender;
        _pubkeys[task][msg.sender] = body;
        _votes[task][msg.sender] = SENTINEL;
        _clock[task].memberCount = index + 1;
        _pull(cfg.token, stake);
        emit Joined(task, msg.sender, index, stake, pubkey);
    }

    /// @notice Settles `account`'s last committee vote now that its reveal window is over.
    /// @dev Permissionless, so a slash cannot be dodged by never acting again.
    /// @param task the task id
    /// @param account the member whose vote is settled
    function settle(uint256 task, address account) external {
        Clock memory c = _loadClock(task);
        Member memory m = _members[task][account];
        if (m.index1 == 0) revert FedMarketNotMember(task, account);
        if (m.voteState == VOTE_NONE || !_settleable(c, m)) revert FedMarketNotSettleable(task, account);
        _members[task][account] = _settle(task, c, m, account);
    }

    /// @notice Withdraws the caller's stake plus earned committee fees, minus slashes, once the task ended.
    /// @param task the task id
    function withdrawStake(uint256 task) external nonReentrant {
        Clock memory c = _loadClock(task);
        if (!_ended(c, block.timestamp)) revert FedMarketTaskNotEnded(task);
        Member memory m = _members[task][msg.sender];
        if (m.index1 == 0) revert FedMarketNotMember(task, msg.sender);
        if (m.withdrawn) revert FedMarketNothingToPay(task, msg.sender);
        if (m.voteState != VOTE_NONE) m = _settle(task, c, m, msg.sender);
        uint256 amount = m.balance;
        m.balance = 0;
        m.withdrawn = true;
        _members[task][msg.sender] = m;
        emit StakeWithdrawn(task, msg.sender, amount);
        _pay(_config[task].token, msg.sender, amount);
    }

    /// @dev A vote is settleable once its attempt's reveal window closed: an earlier round (all of
    /// whose windows end by the current round's start), or an earlier attempt of the current round.
    function _settleable(Clock memory c, Member memory m) internal view returns (bool) {
        if (m.voteRound < c.round) return block.timestamp >= c.roundStart;
        if (block.timestamp < c.roundStart) return false;
        uint256 len = uint256(c.trainDuration) + c.commitDuration + c.revealDuration;
        return (block.timestamp - c.roundStart) / len > m.voteAttempt;
    }

    /// @dev Applies the outcome of `account`'s settleable last vote to `m` (caller stores `m`).
    /// Honest votes never get here: the finalizing reveal settles the quorum and later reveals are
    /// judged on the spot. Left: a commitment never revealed (slash), or a reveal in an attempt
    /// that later finalized with a different result (slash), or in a failed attempt (no slash).
    function _settle(uint256 task, Clock memory c, Member memory m, address account)
        internal
        returns (Member memory)
    {
        uint8 state = m.voteState;
        m.voteState = VOTE_NONE;
        if (state == VOTE_COMMITTED) return _slash(task, m, account);
        if (m.voteRound < c.round && _rounds[task][m.voteRound].attempt == m.voteAttempt) {
            return _slash(task, m, account);
        }
        return m;
    }

    function _slash(uint256 task, Member memory m, address account) internal returns (Member memory) {
        Config storage cfg = _config[task];
        uint256 amount = uint256(cfg.stake) * cfg.slashBps / 10_000;
        if (amount > m.balance) amount = m.balance;
        m.balance -= uint96(amount);
        _funds[task].slashPool += uint128(amount);
        emit Slashed(task, m.voteRound, account, m.voteAttempt, amount);
        return m;
    }
}
