// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IFedMarket: types, events and errors of the fedledger task market (protocol v2)
/// @notice Every error is prefixed `FedMarket` and carries the values needed to understand it.
/// Events are in the past tense and indexed by task, round and participant so that the whole
/// lineage of a task, its terms and every committee can be rebuilt from logs alone.
interface IFedMarket {
    /// @notice Where a task stands at the current block time (derived lazily from timestamps).
    /// @dev Pending: the current round has not started yet (round 1: joining is open; later
    /// rounds: the previous round's challenge window is open). Train/Commit/Reveal: phases of the
    /// current attempt. Finished: every round finalized. Closed: retries exhausted or too few
    /// members at start. Cancelled: the requester cancelled before round 1. Disputed: the last
    /// finalized round was challenged and the dispute is not resolved yet.
    enum Phase {
        None,
        Pending,
        Train,
        Commit,
        Reveal,
        Finished,
        Closed,
        Cancelled,
        Disputed,
        Attest
    }

    /// @notice Where a finalized round's dispute stands.
    enum DisputeState {
        None,
        Open,
        Upheld,
        Overturned,
        Inconclusive
    }

    /// @notice Parameters of a task, fixed at creation.
    /// @dev `token == address(0)` means ETH: bounty, stakes and bonds are paid as msg.value.
    /// Otherwise they are all the same ERC-20, pulled with SafeERC20.transferFrom.
    /// `committeeSize` and `disputeSize` count seats: seat j of an attempt belongs to the member
    /// whose stake interval holds `keccak256(abi.encode(seed, j)) % totalStake`.
    /// `cohortSize` K > 0 samples each round's trainers: only the K members drawn from the round's
    /// cohort seed (see CohortDraw, `drawCohort`) may submit; 0 lets every member train every round.
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
        uint8 disputeSize;
        uint32 joinDuration;
        uint32 trainDuration;
        uint32 commitDuration;
        uint32 revealDuration;
        uint32 challengeDuration;
        uint32 claimDuration;
        uint96 minStake;
        uint16 slashBps;
        uint96 committeeFee;
        uint96 challengeBond;
        uint8 maxRetries;
        uint32 cohortSize;
    }

    /// @notice The record of a finalized round (lineage entry); `model` and `rewardsRoot` are the
    /// dispute's result when the round was overturned.
    struct FinalizedRound {
        bytes32 parentDigest;
        uint64 parentCodec;
        bytes32 modelDigest;
        uint64 modelCodec;
        bytes32 rewardsRoot;
        uint32 submissions;
        uint8 attempt;
        uint16 votes;
        uint40 finalizedAt;
        uint40 revealEnd;
        uint128 budget;
        DisputeState dispute;
    }

    /// @notice What a node needs to know to act now: the current round, attempt, phase and windows.
    /// @dev `seed` is zero until someone calls `lockSeed` in the attempt's commit window;
    /// `cohortSeed` is zero until someone calls `drawCohort` in the round's train window (and
    /// always in a task without a cohort).
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
        uint40 attestEnd;
        bytes32 cohortSeed;
    }

    /// @notice A member's packed state, unpacked.
    struct MemberInfo {
        bool isMember;
        uint32 index;
        uint96 balance;
        uint96 stake;
        uint96 stakeStart;
        uint16 lastSubmittedRound;
        uint16 voteRound;
        uint8 voteAttempt;
        uint8 voteState;
        uint8 voteWeight;
        uint16 disputeRound;
        uint8 disputeState;
        uint8 disputeWeight;
        bool withdrawn;
    }

    /// @notice A round's dispute.
    struct DisputeInfo {
        DisputeState state;
        address challenger;
        uint40 start;
        uint40 commitEnd;
        uint40 revealEnd;
        bytes32 seed;
        bytes32 original;
        bytes32 leader;
        uint16 leaderSeats;
        uint16 revealedSeats;
    }

    // ---------------------------------------------------------------- events

    /// @notice A task was created with these terms and its bounty escrowed; round 1 starts at `startTime`.
    event TaskCreated(
        uint256 indexed task, address indexed requester, address indexed token, TaskParams params, uint40 startTime
    );
    /// @notice The requester cancelled the task before round 1 and got `refund` back.
    event TaskCancelled(uint256 indexed task, uint256 refund);
    /// @notice The last round finalized: the task is finished once its challenge window closes.
    event TaskFinished(uint256 indexed task, uint16 rounds);
    /// @notice The task closed in `round` (retries exhausted, or too few members to start).
    event TaskClosed(uint256 indexed task, uint16 round, uint256 closedAt);
    /// @notice `amount` of unspent bounty, slashed stake, unclaimed rewards and unearned fees went
    /// to the requester.
    event Swept(uint256 indexed task, address indexed requester, uint256 amount);
    /// @notice `participant` joined with `stake` (its seat interval is [start, start + stake)).
    event Joined(
        uint256 indexed task, address indexed participant, uint32 index, uint256 stake, uint256 start, bytes pubkey
    );
    /// @notice `participant` withdrew its remaining stake plus earned fees and bonds.
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
    /// @notice Round `round`'s trainers were drawn (in `attempt`'s train window): the `size` members
    /// whose CohortDraw position under `seed` among `members` is below `size`.
    event CohortDrawn(uint256 indexed task, uint16 indexed round, uint8 attempt, bytes32 seed, uint32 members, uint32 size);
    /// @notice The committee seed of (`round`, `attempt`) was fixed from `block.prevrandao`.
    event SeedLocked(uint256 indexed task, uint16 indexed round, uint8 attempt, bytes32 seed, uint256 totalStake);
    /// @notice A committee member holding `seats` seats holds (fetched, verified, pinned) the
    /// updates whose bits are set in `held` (bit i of word i / 256: the update with seq i). An
    /// update is available when members holding at least `quorum` seats attested it; the
    /// attempt's result aggregates exactly the available updates.
    event Attested(
        uint256 indexed task, uint16 indexed round, address indexed member, uint8 attempt, uint8 seats, uint256[] held
    );
    /// @notice A committee member holding `seats` seats committed to a hidden result.
    event Committed(
        uint256 indexed task, uint16 indexed round, address indexed member, uint8 attempt, uint8 seats, bytes32 commitment
    );
    /// @notice A committee member revealed its result; `votes` is the seat tally of that result so far.
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
    /// @notice A quorum of seats agreed: `modelDigest` is round `round + 1`'s parent unless a
    /// challenge overturns it before the window closes.
    /// The parent is the previous round's final model (genesis for round 1) and the budget
    /// follows from the task's terms, so neither is repeated here; nor is the update commitment:
    /// it is the `commitment` of the round's `UpdateSubmitted` with `seq == submissions - 1`.
    event ModelFinalized(
        uint256 indexed task,
        uint16 indexed round,
        bytes32 indexed modelDigest,
        uint64 modelCodec,
        uint32 submissions,
        bytes32 rewardsRoot,
        uint8 attempt,
        uint16 votes
    );
    /// @notice `challenger` bonded `bond` against round `round`'s result, proposing another.
    event Challenged(
        uint256 indexed task,
        uint16 indexed round,
        address indexed challenger,
        bytes32 modelDigest,
        uint64 modelCodec,
        bytes32 rewardsRoot,
        uint256 bond
    );
    /// @notice The dispute committee seed of `round` was fixed.
    event DisputeSeedLocked(uint256 indexed task, uint16 indexed round, bytes32 seed);
    /// @notice A dispute committee member committed.
    event DisputeCommitted(
        uint256 indexed task, uint16 indexed round, address indexed member, uint8 seats, bytes32 commitment
    );
    /// @notice A dispute committee member revealed; `votes` is that result's seat tally so far.
    event DisputeRevealed(
        uint256 indexed task,
        uint16 indexed round,
        address indexed member,
        bytes32 modelDigest,
        uint64 modelCodec,
        bytes32 rewardsRoot,
        uint16 votes
    );
    /// @notice The dispute of `round` ended: when Overturned, (modelDigest, modelCodec, rewardsRoot)
    /// replaced the challenged result in the round's record.
    event DisputeResolved(
        uint256 indexed task,
        uint16 indexed round,
        DisputeState outcome,
        bytes32 modelDigest,
        uint64 modelCodec,
        bytes32 rewardsRoot,
        uint16 leaderSeats,
        uint16 revealedSeats
    );
    /// @notice A member lost `amount` for its vote in (`round`, `attempt`); attempt 255 is the
    /// round's dispute. `toChallenger` of it went to the challenger that overturned the round.
    event Slashed(
        uint256 indexed task,
        uint16 indexed round,
        address indexed member,
        uint8 attempt,
        uint256 amount,
        uint256 toChallenger
    );
    /// @notice A member earned the committee fee for its seats in the round's final result
    /// (credited to its balance, withdrawn with the stake).
    event FeeEarned(uint256 indexed task, uint16 indexed round, address indexed member, uint256 amount);
    /// @notice `account` claimed `amount` of round `round`'s rewards.
    event RewardClaimed(uint256 indexed task, uint16 indexed round, address indexed account, uint256 amount);

    // ---------------------------------------------------------------- errors

    /// @notice No task has id `task`.
    error FedMarketUnknownTask(uint256 task);
    /// @notice `rounds` must be in [1, 65534] (the round counter is 16 bits and reaches rounds + 1).
    error FedMarketBadRounds(uint256 rounds);
    /// @notice The bounty must be positive.
    error FedMarketZeroBounty();
    /// @notice A CID digest must not be zero.
    error FedMarketZeroDigest();
    /// @notice Committee size must be in [1, max] seats.
    error FedMarketBadCommitteeSize(uint256 committeeSize, uint256 max);
    /// @notice Quorum must satisfy committeeSize / 2 < quorum <= committeeSize.
    error FedMarketBadQuorum(uint256 quorum, uint256 committeeSize);
    /// @notice The dispute committee must be larger than the round committee and at most `max` seats.
    error FedMarketBadDisputeSize(uint256 disputeSize, uint256 committeeSize, uint256 max);
    /// @notice Every phase duration must be positive.
    error FedMarketZeroDuration();
    /// @notice The commit phase must last at least 2 s (its first half is the seed-reveal window).
    error FedMarketCommitTooShort(uint256 commitDuration);
    /// @notice The task's latest possible end (every round at every retry, each challenged)
    /// does not fit in 40-bit timestamps.
    error FedMarketHorizonTooFar(uint256 horizon);
    /// @notice maxParticipants must be at least max(committeeSize, minSubmissions).
    error FedMarketParticipantCapTooSmall(uint256 maxParticipants, uint256 needed);
    /// @notice A phase duration cannot exceed `max` seconds (2^24 - 1, 194 days).
    error FedMarketDurationTooLong(uint256 duration, uint256 max);
    /// @notice maxParticipants cannot exceed `max` (2^24 - 1).
    error FedMarketParticipantCapTooLarge(uint256 maxParticipants, uint256 max);
    /// @notice minSubmissions must be at least 1.
    error FedMarketZeroMinSubmissions();
    /// @notice The minimum stake must be positive (free stake makes Sybils free).
    error FedMarketZeroStake();
    /// @notice The challenge bond must be positive.
    error FedMarketZeroBond();
    /// @notice The slash fraction is in basis points, in [1, 10,000].
    error FedMarketBadSlash(uint256 slashBps);
    /// @notice Per round the committee fees (fee x committeeSize) must fit in the round's share of the bounty.
    error FedMarketFeesExceedShare(uint256 fees, uint256 share);
    /// @notice An amount (stake plus every fee and bond a member could be credited, or a task's
    /// total stake) must fit in 96 bits.
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
    /// @notice The stake offered is below the task's minimum.
    error FedMarketStakeTooLow(uint256 task, uint256 stake, uint256 minStake);
    /// @notice `account`'s balance cannot cover one more slash, so it may no longer vote or challenge.
    error FedMarketBalanceTooLow(uint256 task, address account, uint256 balance, uint256 needed);
    /// @notice `account` is not a member of the task.
    error FedMarketNotMember(uint256 task, address account);
    /// @notice The call names a round other than the one it may act on.
    error FedMarketWrongRound(uint256 task, uint256 round, uint256 expected);
    /// @notice A cohort must hold at least `minSubmissions` members (0: no sampling).
    error FedMarketBadCohortSize(uint256 cohortSize, uint256 minSubmissions);
    /// @notice The task samples no cohort: every member trains every round.
    error FedMarketNoCohort(uint256 task);
    /// @notice Round `round`'s cohort is not drawn yet: call `drawCohort` first (train window).
    error FedMarketCohortNotDrawn(uint256 task, uint256 round);
    /// @notice `account` is not in round `round`'s cohort, so it may not submit an update.
    error FedMarketNotInCohort(uint256 task, uint256 round, address account);
    /// @notice `account` already submitted an update in this round.
    error FedMarketAlreadySubmitted(uint256 task, uint256 round, address account);
    /// @notice The seed of (`round`, `attempt`) is not locked yet: call `lockSeed` first.
    error FedMarketSeedNotLocked(uint256 task, uint256 round, uint256 attempt);
    /// @notice `account` holds no seat in the committee of (`round`, `attempt`) (255: the dispute).
    error FedMarketNotInCommittee(uint256 task, uint256 round, uint256 attempt, address account);
    /// @notice The round has fewer accepted updates than the task requires.
    error FedMarketTooFewSubmissions(uint256 task, uint256 round, uint256 submissions, uint256 needed);
    /// @notice `account` already committed (or was settled) in this attempt.
    error FedMarketAlreadyCommitted(uint256 task, uint256 round, uint256 attempt, address account);
    error FedMarketAlreadyAttested(uint256 task, uint256 round, uint256 attempt, address account);
    /// @notice An availability bitmap whose length is not ceil(submissions / 256) words or that
    /// sets a bit past the last submission.
    error FedMarketBadAttestation(uint256 task, uint256 round, uint256 words, uint256 submissions);
    /// @notice `account` has no open commitment for (`round`, `attempt`).
    error FedMarketNoCommitment(uint256 task, uint256 round, uint256 attempt, address account);
    /// @notice The reveal does not open the sender's own commitment (wrong values, salt, or copied).
    error FedMarketRevealMismatch(uint256 task, uint256 round, address account);
    /// @notice The reveal window of (`round`, `attempt`) is not open.
    error FedMarketRevealClosed(uint256 task, uint256 round, uint256 attempt);
    /// @notice Nothing of `account`'s can be settled yet (its votes' windows are still open).
    error FedMarketNotSettleable(uint256 task, address account);
    /// @notice `account` is not an absentee of (`round`, `attempt`): it voted, was settled, or the
    /// absence can no longer (or not yet) be established.
    error FedMarketNotAbsent(uint256 task, uint256 round, uint256 attempt, address account);
    /// @notice The round has not been finalized.
    error FedMarketRoundNotFinalized(uint256 task, uint256 round);
    /// @notice The round's challenge window is open or its dispute unresolved: nothing of it is payable.
    error FedMarketRoundNotSettled(uint256 task, uint256 round);
    /// @notice The claim deadline of the task has passed; unclaimed rewards went to the requester.
    error FedMarketClaimsClosed(uint256 task, uint256 deadline);
    /// @notice The Merkle proof does not prove (`account`, `amount`) under the round's rewards root.
    error FedMarketInvalidProof(uint256 task, uint256 round, address account, uint256 amount);
    /// @notice `account` already claimed its reward for the round.
    error FedMarketAlreadyClaimed(uint256 task, uint256 round, address account);
    /// @notice Paying `amount` would push the round's payouts past its budget.
    error FedMarketBudgetExceeded(uint256 task, uint256 round, uint256 budget, uint256 paidAfter);
    /// @notice The task has not ended (or its last challenge window or dispute is still open).
    error FedMarketTaskNotEnded(uint256 task);
    /// @notice There is nothing to pay out.
    error FedMarketNothingToPay(uint256 task, address account);
    /// @notice A batch claim's rounds, amounts and proofs are not of one length.
    error FedMarketClaimLengths(uint256 rounds, uint256 amounts, uint256 proofs);
    /// @notice Round `round` cannot be challenged now (not the last finalized round, or its window closed).
    error FedMarketChallengeClosed(uint256 task, uint256 round);
    /// @notice Round `round` was already challenged.
    error FedMarketAlreadyChallenged(uint256 task, uint256 round);
    /// @notice The proposed alternative is the challenged result itself.
    error FedMarketSameResult(uint256 task, uint256 round);
    /// @notice Round `round` has no open dispute in the required window.
    error FedMarketNoDispute(uint256 task, uint256 round);
    /// @notice The dispute seed cannot be locked in the block of the challenge (the challenger
    /// would choose it); try in a later block.
    error FedMarketSeedTooEarly(uint256 task, uint256 round);
    /// @notice The dispute window is still open: it resolves after `revealEnd`.
    error FedMarketDisputeNotOver(uint256 task, uint256 round, uint256 revealEnd);
    /// @notice The result given to apply an overturn is not the dispute's leader.
    error FedMarketNotLeader(uint256 task, uint256 round);
}
