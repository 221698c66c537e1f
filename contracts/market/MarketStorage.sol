// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFedMarket} from "./IFedMarket.sol";

/// @title MarketStorage: the market's state layout and the lazy clock
/// @notice Storage is laid out for gas: everything a hot path (submit, commit, reveal) needs sits
/// in one packed `Clock` slot per task, per-member state in one packed `Member` slot, and slots
/// written per submission or vote are pre-initialised to non-zero so they are never zero->non-zero.
/// Time never needs a keeper: `_phaseAt` derives round, attempt and phase from `block.timestamp`.
abstract contract MarketStorage is IFedMarket {
    /// @dev Upper bound on the committee size (bounds the O(k^2) draw; with quorum > k/2 and
    /// quorum <= MAX_QUORUM it can be at most 2 * MAX_QUORUM - 1).
    uint256 internal constant MAX_COMMITTEE = 21;
    /// @dev Upper bound on the quorum: the first quorum - 1 matching revealers are recorded in the
    /// result's tally word (16-bit count + 10 x 24-bit member index) so the finalizing reveal can
    /// pay their fees at once, leaving no vote to settle on the honest path.
    uint256 internal constant MAX_QUORUM = 11;
    /// @dev Member indices are stored in 24 bits in the tally word.
    uint256 internal constant MAX_PARTICIPANTS = 1 << 24;
    /// @dev Non-zero placeholder for slots later overwritten (keeps writes non-zero -> non-zero).
    bytes32 internal constant SENTINEL = bytes32(uint256(1));

    uint8 internal constant STATUS_OPEN = 0;
    uint8 internal constant STATUS_FINISHED = 1;
    uint8 internal constant STATUS_CANCELLED = 2;

    uint8 internal constant VOTE_NONE = 0;
    uint8 internal constant VOTE_COMMITTED = 1;
    /// @dev Revealed in an attempt that has not finalized (yet): settled later (slash if the
    /// attempt finalized with another result). Matching revealers are settled by the finalizing
    /// reveal, and reveals after finalization are judged on the spot, so neither stays REVEALED.
    uint8 internal constant VOTE_REVEALED = 2;

    /// @dev The hot slot of a task (248 bits). `round` is 1-based; `rounds + 1` once finished.
    struct Clock {
        uint40 roundStart;
        uint16 round;
        uint32 submissions;
        uint32 memberCount;
        uint32 trainDuration;
        uint32 commitDuration;
        uint32 revealDuration;
        uint8 maxRetries;
        uint8 status;
        uint8 committeeSize;
        uint8 quorum;
    }

    /// @dev Cold, immutable task parameters.
    struct Config {
        address requester;
        uint16 rounds;
        uint32 minSubmissions;
        uint32 maxParticipants;
        uint16 slashBps;
        address token;
        uint96 stake;
        uint128 bounty;
        uint96 committeeFee;
        bytes32 manifestDigest;
        bytes32 genesisDigest;
        uint64 manifestCodec;
        uint64 genesisCodec;
        uint40 startTime;
        uint32 joinDuration;
        bytes32 seed0;
    }

    /// @dev Bounty not yet assigned to a round, and slashed stake waiting for the next round.
    struct Funds {
        uint128 unallocated;
        uint128 slashPool;
    }

    /// @dev A finalized round. Written once by `_finalize`; only `paid` moves afterwards.
    struct RoundRecord {
        bytes32 modelDigest;
        bytes32 rewardsRoot;
        bytes32 updateCommitment;
        uint64 modelCodec;
        uint32 submissions;
        uint8 attempt;
        uint16 votes;
        uint40 finalizedAt;
        uint40 revealEnd;
        uint128 budget;
        uint128 paid;
    }

    /// @dev One slot per member: `index1` is the 0-based join index + 1 (0 = not a member);
    /// `balance` is stake + earned fees - slashes.
    struct Member {
        uint96 balance;
        uint32 index1;
        uint16 lastSubmitted;
        uint16 voteRound;
        uint8 voteAttempt;
        uint8 voteState;
        uint8 pubkeyPrefix;
        bool withdrawn;
    }

    uint256 internal _taskCount;
    mapping(uint256 task => Config) internal _config;
    mapping(uint256 task => Clock) internal _clock;
    mapping(uint256 task => Funds) internal _funds;
    /// @dev Head of the current round's update hash chain (valid when submissions > 0).
    mapping(uint256 task => bytes32) internal _updateHead;
    /// @dev Seed base of the current round: seed0 for round 1, then keccak(seed0, model, root) of the parent.
    mapping(uint256 task => bytes32) internal _seedBase;
    mapping(uint256 task => mapping(uint256 round => RoundRecord)) internal _rounds;
    mapping(uint256 task => mapping(address account => Member)) internal _members;
    /// @dev A member's last vote: its commitment, replaced by its result hash when revealed.
    mapping(uint256 task => mapping(address account => bytes32)) internal _votes;
    mapping(uint256 task => mapping(address account => bytes32)) internal _pubkeys;
    mapping(uint256 task => mapping(uint256 index => address)) internal _memberAt;
    /// @dev keccak(task, round, attempt, resultHash) => tally word: bits 0..15 the number of
    /// reveals of that result, then up to 10 x 24-bit member indices of its pre-quorum revealers.
    mapping(bytes32 key => uint256) internal _tally;
    /// @dev claimed bitmap per (task, round), bit = member index.
    mapping(uint256 task => mapping(uint256 round => mapping(uint256 word => uint256))) internal _claimed;

    function _loadClock(uint256 task) internal view returns (Clock memory c) {
        c = _clock[task];
        if (c.round == 0) revert FedMarketUnknownTask(task);
    }

    /// @dev Derives phase, attempt and attempt start at time `t`. Attempt a of a round runs
    /// [roundStart + a*L, roundStart + (a+1)*L) with L = train + commit + reveal.
    function _phaseAt(Clock memory c, uint256 t) internal pure returns (Phase p, uint256 attempt, uint256 start) {
        if (c.round == 0) return (Phase.None, 0, 0);
        if (c.status == STATUS_CANCELLED) return (Phase.Cancelled, 0, c.roundStart);
        if (c.status == STATUS_FINISHED) return (Phase.Finished, 0, c.roundStart);
        if (t < c.roundStart) return (Phase.Pending, 0, c.roundStart);
        if (c.round == 1 && c.memberCount < c.committeeSize) return (Phase.Closed, 0, c.roundStart);
        uint256 len = uint256(c.trainDuration) + c.commitDuration + c.revealDuration;
        attempt = (t - c.roundStart) / len;
        if (attempt > c.maxRetries) return (Phase.Closed, attempt, c.roundStart + attempt * len);
        start = c.roundStart + attempt * len;
        uint256 offset = t - start;
        if (offset < c.trainDuration) p = Phase.Train;
        else if (offset < uint256(c.trainDuration) + c.commitDuration) p = Phase.Commit;
        else p = Phase.Reveal;
    }

    /// @dev Whether the task is over for payouts: finished and past its last reveal window, closed, or cancelled.
    function _ended(Clock memory c, uint256 t) internal pure returns (bool) {
        (Phase p,,) = _phaseAt(c, t);
        if (p == Phase.Finished) return t >= c.roundStart;
        return p == Phase.Closed || p == Phase.Cancelled;
    }

    function _attemptSeed(bytes32 seedBase, uint256 round, uint256 attempt) internal pure returns (bytes32) {
        return keccak256(abi.encode(seedBase, round, attempt));
    }

    function _resultHash(bytes32 modelDigest, uint64 modelCodec, bytes32 rewardsRoot) internal pure returns (bytes32) {
        return keccak256(abi.encode(modelDigest, modelCodec, rewardsRoot));
    }

    function _tallyKey(uint256 task, uint256 round, uint256 attempt, bytes32 result) internal pure returns (bytes32) {
        return keccak256(abi.encode(task, round, attempt, result));
    }
}
