// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFedMarket} from "./market/IFedMarket.sol";

/// @title IFedMarketRoundViews: the two FedMarket views SeedReveals reads
interface IFedMarketRoundViews {
    /// @notice The current round, attempt, phase and windows of `task`.
    function roundState(uint256 task) external view returns (IFedMarket.RoundState memory);

    /// @notice `account`'s member record in `task`.
    function member(uint256 task, address account) external view returns (IFedMarket.MemberInfo memory);
}

/// @title SeedReveals: where survivors of a secure round register their seed-reveal files
/// @notice In a `secure` task every update is masked with pairwise masks. When members drop out
/// (no valid masked update in the round), each member that did submit publishes its pair seeds
/// with the dropped ones in a file on IPFS and registers the file's CID here, so the committee can
/// remove the dangling masks. A reveal is accepted only from a member that submitted an update in
/// the round, only during the recovery window of the current attempt (the first half of its
/// commit phase: after the submission list is final, before the committee must commit), and once
/// per member per (round, attempt). The contract stores nothing but the once-only flag; the
/// reveals are rebuilt from `SeedsRevealed` events.
/// @dev Kept apart from FedMarket, which sits just under the EIP-170 code size limit. It reads
/// the market's views; it never changes the market's state.
contract SeedReveals {
    /// @notice The market whose secure rounds this contract serves.
    IFedMarketRoundViews public immutable market;

    /// @dev keccak256(abi.encode(task, round, attempt, member)) => revealed
    mapping(bytes32 key => bool revealed) private _revealed;

    /// @notice `member` published its seed reveal for (`round`, `attempt`) of `task` at CID
    /// (`digest`, `codec`).
    event SeedsRevealed(
        uint256 indexed task, uint16 indexed round, address indexed member, uint8 attempt, bytes32 digest, uint64 codec
    );

    /// @notice The market address must be a contract.
    error SeedRevealsNotAContract(address market);
    /// @notice A CID digest must not be zero.
    error SeedRevealsZeroDigest();
    /// @notice The call names a round other than the task's current round.
    error SeedRevealsWrongRound(uint256 task, uint256 round, uint256 expected);
    /// @notice The recovery window [`start`, `end`) of the current attempt is not open at `time`.
    error SeedRevealsWindowClosed(uint256 task, uint256 round, uint256 attempt, uint256 start, uint256 end, uint256 time);
    /// @notice `account` submitted no update in `round`, so it has no seeds to reveal.
    error SeedRevealsNotSubmitter(uint256 task, uint256 round, address account);
    /// @notice `account` already revealed in (`round`, `attempt`).
    error SeedRevealsAlreadyRevealed(uint256 task, uint256 round, uint256 attempt, address account);

    /// @param market_ the FedMarket deployment
    constructor(address market_) {
        if (market_.code.length == 0) revert SeedRevealsNotAContract(market_);
        market = IFedMarketRoundViews(market_);
    }

    /// @notice Registers the caller's seed-reveal file for the current attempt of `round`.
    /// @param task the task id
    /// @param round the task's current round
    /// @param digest the sha2-256 digest of the reveal file's CID
    /// @param codec the CID's multicodec (0x55 raw, 0x70 dag-pb)
    function reveal(uint256 task, uint16 round, bytes32 digest, uint64 codec) external {
        if (digest == bytes32(0)) revert SeedRevealsZeroDigest();
        IFedMarket.RoundState memory s = market.roundState(task);
        if (round != s.round) revert SeedRevealsWrongRound(task, round, s.round);
        (uint256 start, uint256 end) = recoveryWindow(s);
        if (s.phase != IFedMarket.Phase.Commit || block.timestamp >= end) {
            revert SeedRevealsWindowClosed(task, round, s.attempt, start, end, block.timestamp);
        }
        if (market.member(task, msg.sender).lastSubmittedRound != round) {
            revert SeedRevealsNotSubmitter(task, round, msg.sender);
        }
        bytes32 key = keccak256(abi.encode(task, round, s.attempt, msg.sender));
        if (_revealed[key]) revert SeedRevealsAlreadyRevealed(task, round, s.attempt, msg.sender);
        _revealed[key] = true;
        emit SeedsRevealed(task, round, msg.sender, s.attempt, digest, codec);
    }

    /// @notice Whether `account` revealed in (`round`, `attempt`) of `task`.
    /// @param task the task id
    /// @param round the round
    /// @param attempt the attempt (0-based)
    /// @param account the member
    function revealed(uint256 task, uint16 round, uint8 attempt, address account) external view returns (bool) {
        return _revealed[keccak256(abi.encode(task, round, attempt, account))];
    }

    /// @notice The recovery window of an attempt: the first half of its commit phase, after the
    /// attest window fixed which masked updates are available (the unavailable ones' masks are
    /// recovered like a dropped member's).
    /// @param s the round state (`roundState`) of the attempt
    /// @return start the window's first second (the attest deadline)
    /// @return end the first second after it
    function recoveryWindow(IFedMarket.RoundState memory s) public pure returns (uint256 start, uint256 end) {
        start = s.attestEnd;
        end = uint256(s.attestEnd) + (uint256(s.commitEnd) - s.attestEnd) / 2;
    }
}
