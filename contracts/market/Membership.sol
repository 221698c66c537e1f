// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketBase} from "./MarketBase.sol";

/// @title Membership: joining with a stake, withdrawing it
/// @notice A member's stake is at least the task's minimum and buys committee seats in proportion
/// (see StakeSeats). Withdrawing settles the member's last votes first (see Settlement).
abstract contract Membership is MarketBase {
    /// @notice Joins a task before round 1 starts with `stake` >= the task's minimum (ETH tasks:
    /// msg.value == stake; ERC-20 tasks: transferFrom of the bounty's token, after `approve`).
    /// @param task the task id
    /// @param pubkey the secure-aggregation public key: 32 bytes (e.g. X25519) or 33 bytes
    /// (compressed secp256k1, first byte 0x02 or 0x03)
    /// @param stake what the member locks; its committee seats are proportional to it
    function join(uint256 task, bytes calldata pubkey, uint96 stake) external payable nonReentrant {
        Clock memory c = _loadClock(task);
        (Phase p,,) = _phaseAt(c, block.timestamp);
        if (p != Phase.Pending || c.round != 1) revert FedMarketWrongPhase(task, p);
        Config storage cfg = _config[task];
        if (c.memberCount >= cfg.maxParticipants) revert FedMarketTaskFull(task, cfg.maxParticipants);
        if (_members[task][msg.sender].index1 != 0) revert FedMarketAlreadyMember(task, msg.sender);
        if (stake < cfg.minStake) revert FedMarketStakeTooLow(task, stake, cfg.minStake);
        uint256 start = _draw[task].totalStake;
        uint256 assets = start + stake + cfg.bounty + uint256(cfg.challengeBond) * cfg.rounds;
        if (assets > type(uint96).max) revert FedMarketAmountTooLarge(assets);
        uint8 prefix = _storePubkey(task, pubkey);
        uint24 index = c.memberCount;
        _members[task][msg.sender] = Member({
            balance: stake,
            index1: index + 1,
            lastSubmitted: 0,
            voteRound: 0,
            voteAttempt: 0,
            voteState: VOTE_NONE,
            voteWeight: 0,
            disputeRound: 0,
            disputeState: VOTE_NONE,
            disputeWeight: 0,
            withdrawn: false,
            attested: 0
        });
        _stakes[task][msg.sender] = Stake({stake: stake, start: uint96(start), pubkeyPrefix: prefix});
        _memberAt[task][index] = msg.sender;
        _votes[task][msg.sender] = SENTINEL;
        _disputeVotes[task][msg.sender] = SENTINEL;
        _draw[task].totalStake = uint96(start + stake);
        _clock[task].memberCount = index + 1;
        _pull(cfg.token, stake);
        emit Joined(task, msg.sender, index, stake, start, pubkey);
    }

    /// @notice Withdraws the caller's balance (stake plus credited fees and bonds, minus slashes)
    /// once the task ended. Callable again if a challenger share is credited later.
    /// @param task the task id
    function withdrawStake(uint256 task) external nonReentrant {
        Clock memory c = _loadClock(task);
        if (_endTime(c, block.timestamp) == 0) revert FedMarketTaskNotEnded(task);
        _markClosed(task, c);
        Member memory m = _members[task][msg.sender];
        if (m.index1 == 0) revert FedMarketNotMember(task, msg.sender);
        m = _settleAll(task, c, m, msg.sender, block.timestamp);
        uint256 amount = m.balance;
        if (amount == 0) revert FedMarketNothingToPay(task, msg.sender);
        m.balance = 0;
        m.withdrawn = true;
        _members[task][msg.sender] = m;
        emit StakeWithdrawn(task, msg.sender, amount);
        _pay(_config[task].token, msg.sender, amount);
    }

    function _storePubkey(uint256 task, bytes calldata pubkey) private returns (uint8 prefix) {
        bytes32 body;
        if (pubkey.length == 32) {
            body = bytes32(pubkey);
        } else if (pubkey.length == 33 && (pubkey[0] == 0x02 || pubkey[0] == 0x03)) {
            prefix = uint8(pubkey[0]);
            body = bytes32(pubkey[1:]);
        } else {
            revert FedMarketBadPubkey(pubkey.length);
        }
        _pubkeys[task][msg.sender] = body;
    }
}
