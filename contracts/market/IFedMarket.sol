// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IFedMarket: types, events and errors of the fedledger task market
/// @notice Every error is prefixed `FedMarket` and carries the values needed to understand it.
/// Events are in the past tense and indexed by task, round and participant so that the whole
/// lineage of a task can be rebuilt from logs alone.
interface IFedMarket {
    /// @notice Where a task stands at the current block time (derived lazily from timestamps).
    /// @dev Pending: the current round has not started yet (for round 1: joining is open).
    /// Train/Commit/Reveal: phases of the current attempt of the current round.
    /// Finished: every round finalized. Closed: retries exhausted or too few members at start.
    /// Cancelled: the requester cancelled before round 1 started.
    enum Phase {
        None,
        Pending,
        Train,
        Commit,
        Reveal,
        Finished,
        Closed,
        Cancelled
    }

    /// @notice Parameters of a task, fixed at creation.
    /// @dev `token == address(0)` means ETH: bounty and stakes are paid as msg.value.
    /// Otherwise bounty and stakes are the same ERC-20, pulled with SafeERC20.transferFrom.
    struct TaskParams {
        bytes32 manifestDigest;
        uint64 manifestCodec;
        bytes32 genesisDigest;
        uint64 genesisCodec;
        address token;
        uint128 bounty;
        uint16 rounds;
        uint32 maxParticipants;
        uint32 minSubmissions;
        uint8 committeeSize;
        uint8 quorum;
        uint32 joinDuration;
        uint32 trainDuration;
        uint32 commitDuration;
        uint32 revealDuration;
        uint96 stake;
        uint16 slashBps;
        uint96 committeeFee;
        uint8 maxRetries;
    }

    /// @notice The immutable record of a finalized round (lineage entry).
    struct FinalizedRound {
        bytes32 parentDigest;
        uint64 parentCodec;
        bytes32 modelDigest;
        uint64 modelCodec;
        bytes32 updateCommitment;
        uint32 submissions;
        bytes32 rewardsRoot;
        uint8 attempt;
        uint16 votes;
        uint40 finalizedAt;
        uint40 revealEnd;
        uint128 budget;
    }

    /// @notice What a node needs to know to act now: the current round, attempt, phase and windows.
    struct RoundState {
        uint16 round;
        uint8 attempt;
        Phase phase;
        uint40 attemptStart;
        uint40 trainEnd;
        uint40 commitEnd;
        uint40 revealEnd;
        uint32 submissions;
        bytes32 updateCommitment;
        bytes32 seed;
        bytes32 parentDigest;
        uint64 parentCodec;
    }

    /// @notice A member's packed state, unpacked.
    struct MemberInfo {
        bool isMember;
        uint32 index;
        uint96 balance;
        uint16 lastSubmittedRound;
        uint16 voteRound;
        uint8 voteAttempt;
        uint8 voteState;
        bool withdrawn;
    }

    // ---------------------------------------------------------------- events

    /// @notice A task was created and its bounty escrowed.
    event TaskCreated(
        uint256 indexed task,
        address indexed requester,
        address indexed token,
        uint256 bounty,
        bytes32 manifestDigest,
        uint64 manifestCodec,
        bytes32 genesisDigest,
        uint64 genesisCodec,
        uint40 startTime
    );
    /// @notice The requester cancelled the task before round 1 and got `refund` back.
    event TaskCancelled(uint256 indexed task, uint256 refund);
    /// @notice Unspent bounty (unallocated rounds and leftover slashed stake) went back to the requester.
    event BountyRefunded(uint256 indexed task, address indexed requester, uint256 amount);
    /// @notice `participant` joined with `stake` and a secure-aggregation public key; `index` is 0-based.
    event Joined(uint256 indexed task, address indexed participant, uint32 index, uint256 stake, bytes pubkey);
    /// @notice `participant` withdrew its remaining stake plus earned committee fees.
    event StakeWithdrawn(uint256 indexed task, address indexed participant, uint256 amount);
    /// @notice An update was accepted; `seq` is its 0-based position, `commitment` the new hash chain head.
    event UpdateSubmitted(
        uint256 indexed task,
        uint16 indexed round,
        address indexed participant,
        bytes32 digest,
        uint64 codec,
        uint64 numSamples,
        uint32 seq,
        bytes32 commitment
    );
    /// @notice A committee member committed to a hidden result for an attempt of a round.
    event Committed(uint256 indexed task, uint16 indexed round, address indexed member, uint8 attempt, bytes32 commitment);
    /// @notice A committee member revealed its result; `votes` is the tally of that result so far.
    event Revealed(
        uint256 indexed task,
        uint16 indexed round,
        address indexed member,
        uint8 attempt,
        bytes32 modelDigest,
        uint64 modelCodec,
        bytes32 rewardsRoot,
        uint16 votes
    );
    /// @notice A quorum agreed: the round is final and `modelDigest` is round `round + 1`'s parent.
    event ModelFinalized(
        uint256 indexed task,
        uint16 indexed round,
        bytes32 indexed modelDigest,
        uint64 modelCodec,
        bytes32 parentDigest,
        uint64 parentCodec,
        bytes32 updateCommitment,
        uint32 submissions,
        bytes32 rewardsRoot,
        uint8 attempt,
        uint16 votes,
        uint128 budget
    );
    /// @notice A committee member lost `amount` of stake for its vote in (`round`, `attempt`).
    event Slashed(uint256 indexed task, uint16 indexed round, address indexed member, uint8 attempt, uint256 amount);
    /// @notice A committee member earned the committee fee for being part of the finalizing quorum
    /// (credited to its balance, withdrawn with the stake).
    event FeeEarned(uint256 indexed task, uint16 indexed round, address indexed member, uint256 amount);
    /// @notice `account` claimed `amount` of round `round`'s rewards.
    event RewardClaimed(uint256 indexed task, uint16 indexed round, address indexed account, uint256 amount);

    // ---------------------------------------------------------------- errors

    /// @notice No task has id `task`.
    error FedMarketUnknownTask(uint256 task);
    /// @notice `rounds` must be at least 1.
    error FedMarketZeroRounds();
    /// @notice The bounty must be positive.
    error FedMarketZeroBounty();
    /// @notice A CID digest must not be zero.
    error FedMarketZeroDigest();
    /// @notice Committee size must be in [1, max].
    error FedMarketBadCommitteeSize(uint256 committeeSize, uint256 max);
    /// @notice Quorum must satisfy committeeSize / 2 < quorum <= min(committeeSize, 11).
    error FedMarketBadQuorum(uint256 quorum, uint256 committeeSize);
    /// @notice Every phase duration must be positive.
    error FedMarketZeroDuration();
    /// @notice maxParticipants must be at least max(committeeSize, minSubmissions, 1).
    error FedMarketParticipantCapTooSmall(uint256 maxParticipants, uint256 needed);
    /// @notice maxParticipants cannot exceed `max` (2^24: member indices are packed in 24 bits).
    error FedMarketParticipantCapTooLarge(uint256 maxParticipants, uint256 max);
    /// @notice minSubmissions must be at least 1.
    error FedMarketZeroMinSubmissions();
    /// @notice The slash fraction is in basis points and cannot exceed 10,000.
    error FedMarketSlashTooLarge(uint256 slashBps);
    /// @notice Per round the committee fees (fee x quorum) must fit in the round's share of the bounty.
    error FedMarketFeesExceedShare(uint256 fees, uint256 share);
    /// @notice Stake plus every fee a member could earn must fit in 96 bits.
    error FedMarketAmountTooLarge(uint256 amount);
    /// @notice msg.value differs from what the call requires.
    error FedMarketWrongValue(uint256 expected, uint256 actual);
    /// @notice The operation is not allowed in the task's current phase.
    error FedMarketWrongPhase(uint256 task, Phase phase);
    /// @notice Only the requester may do this.
    error FedMarketNotRequester(uint256 task, address caller);
    /// @notice The task already has `maxParticipants` members.
    error FedMarketTaskFull(uint256 task, uint256 maxParticipants);
    /// @notice `account` is already a member.
    error FedMarketAlreadyMember(uint256 task, address account);
    /// @notice A public key is 32 bytes, or 33 bytes starting with 0x02 or 0x03.
    error FedMarketBadPubkey(uint256 length);
    /// @notice `account` is not a member of the task.
    error FedMarketNotMember(uint256 task, address account);
    /// @notice The call names a round other than the one it may act on.
    error FedMarketWrongRound(uint256 task, uint256 round, uint256 expected);
    /// @notice `account` already submitted an update in this round.
    error FedMarketAlreadySubmitted(uint256 task, uint256 round, address account);
    /// @notice `account` is not in the committee of (`round`, `attempt`).
    error FedMarketNotInCommittee(uint256 task, uint256 round, uint256 attempt, address account);
    /// @notice The round has fewer accepted updates than the task requires.
    error FedMarketTooFewSubmissions(uint256 task, uint256 round, uint256 submissions, uint256 needed);
    /// @notice `account` already committed (or revealed) in this attempt.
    error FedMarketAlreadyCommitted(uint256 task, uint256 round, uint256 attempt, address account);
    /// @notice `account` has no open commitment for (`round`, `attempt`).
    error FedMarketNoCommitment(uint256 task, uint256 round, uint256 attempt, address account);
    /// @notice The reveal does not open the sender's own commitment (wrong values, salt, or copied).
    error FedMarketRevealMismatch(uint256 task, uint256 round, address account);
    /// @notice The reveal window of (`round`, `attempt`) is not open.
    error FedMarketRevealClosed(uint256 task, uint256 round, uint256 attempt);
    /// @notice The member's last vote cannot be settled yet (its reveal window is still open).
    error FedMarketNotSettleable(uint256 task, address account);
    /// @notice The round has not been finalized.
    error FedMarketRoundNotFinalized(uint256 task, uint256 round);
    /// @notice The Merkle proof does not prove (`account`, `amount`) under the round's rewards root.
    error FedMarketInvalidProof(uint256 task, uint256 round, address account, uint256 amount);
    /// @notice `account` already claimed its reward for the round.
    error FedMarketAlreadyClaimed(uint256 task, uint256 round, address account);
    /// @notice Paying `amount` would push the round's payouts past its budget.
    error FedMarketBudgetExceeded(uint256 task, uint256 round, uint256 budget, uint256 paidAfter);
    /// @notice The task has not ended (or its last reveal window is still open).
    error FedMarketTaskNotEnded(uint256 task);
    /// @notice There is nothing to pay out.
    error FedMarketNothingToPay(uint256 task, address account);
}
