// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IFedMarket} from "./IFedMarket.sol";
import {StakeSeats} from "./StakeSeats.sol";

/// @title MarketBase: the market's whole state, its lazy clock and the rules shared by its modules
/// @notice FedMarket (the entry contract) and FedMarketExtension (disputes and views, reached by
/// delegatecall) both inherit this contract and declare no state of their own, so they share one
/// storage layout by construction (a test compares the compiler's layouts).
/// Gas layout: what a hot path reads sits in one packed slot (`Clock` per task, `Member` per
/// member); slots written per vote or per round are made non-zero before the hot write (at join,
/// or when the attempt's seed is locked), so every reveal, the finalizing one included, costs about
/// the same and no committee member gains by waiting for another to finalize.
abstract contract MarketBase is IFedMarket, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 internal constant MAX_COMMITTEE = 31;
    uint256 internal constant MAX_DISPUTE = 63;
    uint256 internal constant MAX_PARTICIPANTS = (1 << 24) - 1;
    uint256 internal constant MAX_DURATION = (1 << 24) - 1;
    /// @dev `attempt` value naming a round's dispute in events and errors.
    uint8 internal constant DISPUTE_ATTEMPT = 255;
    /// @dev `roundStart` while a dispute holds the next round (or the task's end) back.
    uint40 internal constant HELD = type(uint40).max;
    /// @dev Non-zero placeholder for slots later overwritten (keeps writes non-zero -> non-zero).
    bytes32 internal constant SENTINEL = bytes32(uint256(1));
    /// @dev Domain tags of the two kinds of commitment.
    uint256 internal constant ROUND_VOTE = 0;
    uint256 internal constant DISPUTE_VOTE = 1;
    /// @dev Domain tag of a cohort seed (keeps it apart from the committee seeds of the same block).
    bytes32 internal constant COHORT_DRAW = keccak256("fedledger.cohort");

    uint8 internal constant STATUS_OPEN = 0;
    uint8 internal constant STATUS_FINISHED = 1;
    uint8 internal constant STATUS_CANCELLED = 2;
    /// @dev Closed is derived from time; this status only records that `TaskClosed` was emitted.
    uint8 internal constant STATUS_CLOSED = 3;

    uint8 internal constant VOTE_NONE = 0;
    uint8 internal constant VOTE_COMMITTED = 1;
    uint8 internal constant VOTE_REVEALED = 2;
    /// @dev Revealed, and the reveal finalized the round: the vote is the round's original result,
    /// so `_votes` keeps the commitment (one SSTORE less on the finalizing reveal).
    uint8 internal constant VOTE_FINALIZED = 3;

    uint8 internal constant RECORD_NONE = 0;
    uint8 internal constant RECORD_PREPARED = 1;
    uint8 internal constant RECORD_FINAL = 2;

    /// @dev The hot slot of a task (256 bits): everything submit, commit, reveal and finalize
    /// read. `round` is 1-based; `rounds + 1` once finished. Counts and durations are 24-bit
    /// (16.7 million members, 194 days per phase).
    struct Clock {
        uint40 roundStart;
        uint16 round;
        uint16 rounds;
        uint24 submissions;
        uint24 memberCount;
        uint24 trainDuration;
        uint24 commitDuration;
        uint24 revealDuration;
        uint24 challengeDuration;
        uint8 maxRetries;
        uint8 status;
        uint8 committeeSize;
        uint8 quorum;
        bool sampled; // cohortSize > 0: only each round's drawn cohort submits
    }

    /// @dev Cold, immutable task parameters (plus the creation time).
    struct Config {
        address requester;
        uint16 rounds;
        uint32 minSubmissions;
        uint32 maxParticipants;
        uint16 slashBps;
        address token;
        uint96 minStake;
        uint128 bounty;
        uint96 committeeFee;
        uint8 disputeSize;
        uint24 cohortSize;
        bytes32 manifestDigest;
        bytes32 genesisDigest;
        uint64 manifestCodec;
        uint64 genesisCodec;
        uint40 startTime;
        uint32 joinDuration;
        uint32 claimDuration;
        uint96 challengeBond;
    }

    /// @dev The seat draw of the latest locked attempt: its tag and the task's total stake.
    struct Draw {
        uint96 totalStake;
        uint16 round;
        uint8 attempt;
        bool locked;
    }

    /// @dev The requester's side of the books. `pool` is every slash not sent to a challenger plus
    /// forfeited bonds; `swept` what the requester received so far. Each counter is stored plus
    /// one (set at creation), so no hot path ever writes these slots from zero.
    struct Funds {
        uint128 pool;
        uint128 swept;
        uint128 rewardsPaid;
        uint128 feesEarned;
    }

    /// @dev A round's packed record (the digest and root sit in their own slots).
    struct RoundRecord {
        uint64 modelCodec;
        uint8 attempt;
        uint8 state;
        uint8 dispute;
        uint16 votes;
        uint32 submissions;
        uint40 finalizedAt;
        uint40 revealEnd;
    }

    /// @dev A round's dispute: one slot of state, plus the seed, the challenged result and the
    /// leading result.
    struct Dispute {
        address challenger;
        uint40 start;
        uint48 block_;
        bool seeded;
        uint16 leaderSeats;
        uint16 revealedSeats;
    }

    /// @dev The hot member slot: `index1` is the 0-based join index + 1 (0 = not a member);
    /// `balance` is stake + credited fees and bonds - slashes. One round vote and one dispute
    /// vote are tracked: a member's earlier vote is always settleable by the time it votes again.
    struct Member {
        uint96 balance;
        uint32 index1;
        uint16 lastSubmitted;
        uint16 voteRound;
        uint8 voteAttempt;
        uint8 voteState;
        uint8 voteWeight;
        uint16 disputeRound;
        uint8 disputeState;
        uint8 disputeWeight;
        bool withdrawn;
        uint24 attested; // (round << 8 | attempt) of the member's last attestation
    }

    /// @dev The cold member slot: the join stake and its seat interval [start, start + stake).
    struct Stake {
        uint96 stake;
        uint96 start;
        uint8 pubkeyPrefix;
    }

    uint256 internal _taskCount;
    mapping(uint256 task => Config) internal _config;
    mapping(uint256 task => Clock) internal _clock;
    mapping(uint256 task => Draw) internal _draw;
    mapping(uint256 task => bytes32) internal _seed;
    mapping(uint256 task => Funds) internal _funds;
    /// @dev Head of the current round's update hash chain (valid when submissions > 0).
    mapping(uint256 task => bytes32) internal _updateHead;
    mapping(uint256 task => mapping(uint256 round => RoundRecord)) internal _rounds;
    mapping(uint256 task => mapping(uint256 round => bytes32)) internal _modelDigest;
    mapping(uint256 task => mapping(uint256 round => bytes32)) internal _rewardsRoot;
    mapping(uint256 task => mapping(uint256 round => uint256)) internal _paid;
    mapping(uint256 task => mapping(uint256 round => Dispute)) internal _disputes;
    mapping(uint256 task => mapping(uint256 round => bytes32)) internal _disputeSeed;
    /// @dev A round's cohort seed (zero: not drawn yet), written once by `drawCohort`.
    mapping(uint256 task => mapping(uint256 round => bytes32)) internal _cohortSeed;
    /// @dev The challenged result's hash (what the quorum revealed), set by `challenge`.
    /// @dev An overturned round's original result (written by the overturn; see `_originalResult`).
    mapping(uint256 task => mapping(uint256 round => bytes32)) internal _challenged;
    mapping(uint256 task => mapping(uint256 round => bytes32)) internal _leader;
    mapping(uint256 task => mapping(address account => Member)) internal _members;
    mapping(uint256 task => mapping(address account => Stake)) internal _stakes;
    /// @dev A member's last round vote: its commitment, replaced by its result hash when revealed.
    mapping(uint256 task => mapping(address account => bytes32)) internal _votes;
    mapping(uint256 task => mapping(address account => bytes32)) internal _disputeVotes;
    mapping(uint256 task => mapping(address account => bytes32)) internal _pubkeys;
    mapping(uint256 task => mapping(uint256 index => address)) internal _memberAt;
    /// @dev keccak(task, round, attempt, result) => seats that revealed it (attempt 255: dispute).
    mapping(bytes32 key => uint256) internal _tally;
    /// @dev claimed bitmap per (task, round), bit = member index.
    mapping(uint256 task => mapping(uint256 round => mapping(uint256 word => uint256))) internal _claimed;

    function _loadClock(uint256 task) internal view returns (Clock memory c) {
        c = _clock[task];
        if (c.round == 0) revert FedMarketUnknownTask(task);
    }

    /// @dev The attest window lasts as long as the commit window (both are "fetch the round's
    /// updates" time), so it needs no field of its own in the full `Clock` slot.
    function _attemptLength(Clock memory c) internal pure returns (uint256) {
        return uint256(c.trainDuration) + 2 * uint256(c.commitDuration) + c.revealDuration;
    }

    /// @dev Derives phase, attempt and attempt start at time `t`. Attempt a of a round runs
    /// [roundStart + a*L, roundStart + (a+1)*L) with L = train + attest + commit + reveal and
    /// attest = commit.
    function _phaseAt(Clock memory c, uint256 t) internal pure returns (Phase p, uint256 attempt, uint256 start) {
        if (c.status == STATUS_CANCELLED) return (Phase.Cancelled, 0, c.roundStart);
        if (c.roundStart == HELD) return (Phase.Disputed, 0, HELD);
        if (c.status == STATUS_FINISHED) return (Phase.Finished, 0, c.roundStart);
        if (c.status == STATUS_CLOSED) return (Phase.Closed, 0, c.roundStart);
        if (t < c.roundStart) return (Phase.Pending, 0, c.roundStart);
        if (c.round == 1 && c.memberCount < c.committeeSize) return (Phase.Closed, 0, c.roundStart);
        uint256 len = _attemptLength(c);
        attempt = (t - c.roundStart) / len;
        if (attempt > c.maxRetries) return (Phase.Closed, attempt, c.roundStart + attempt * len);
        start = c.roundStart + attempt * len;
        uint256 offset = t - start;
        if (offset < c.trainDuration) p = Phase.Train;
        else if (offset < uint256(c.trainDuration) + c.commitDuration) p = Phase.Attest;
        else if (offset < uint256(c.trainDuration) + 2 * uint256(c.commitDuration)) p = Phase.Commit;
        else p = Phase.Reveal;
    }

    /// @dev When the task ended (0: not yet): the close of the last challenge window (or the
    /// dispute's resolution), the start of the attempt past the last retry, or the cancellation.
    function _endTime(Clock memory c, uint256 t) internal pure returns (uint256) {
        (Phase p,, uint256 start) = _phaseAt(c, t);
        if (p == Phase.Finished) return t >= c.roundStart ? c.roundStart : 0;
        if (p == Phase.Closed) {
            if (c.round == 1 && c.memberCount < c.committeeSize) return c.roundStart;
            return c.roundStart + (uint256(c.maxRetries) + 1) * _attemptLength(c);
        }
        if (p == Phase.Cancelled) return start;
        return 0;
    }

    /// @dev Whether round `round`'s challenge window closed and any dispute of it resolved: only
    /// then is anything of it payable or settleable. Rounds never overlap, so this holds once the
    /// next round (or the task's end) has started.
    function _roundSettled(Clock memory c, uint256 round, uint256 t) internal pure returns (bool) {
        if (round + 1 < c.round) return true;
        if (round + 1 > c.round) return false;
        return c.roundStart != HELD && t >= c.roundStart && c.status != STATUS_CANCELLED;
    }

    function _claimDeadline(uint256 task, Clock memory c, uint256 t) internal view returns (uint256) {
        uint256 end = _endTime(c, t);
        if (end == 0) return type(uint256).max;
        return end + _config[task].claimDuration;
    }

    function _resultHash(bytes32 modelDigest, uint64 modelCodec, bytes32 rewardsRoot) internal pure returns (bytes32) {
        return keccak256(abi.encode(modelDigest, modelCodec, rewardsRoot));
    }

    function _finalResult(uint256 task, uint256 round) internal view returns (bytes32) {
        return _resultHash(_modelDigest[task][round], _rounds[task][round].modelCodec, _rewardsRoot[task][round]);
    }

    /// @dev The result the round's quorum finalized: the record's, unless a dispute overturned it
    /// (the overturn saves the original in `_challenged` before replacing the record).
    function _originalResult(uint256 task, uint256 round) internal view returns (bytes32) {
        if (_rounds[task][round].dispute == uint8(DisputeState.Overturned)) return _challenged[task][round];
        return _finalResult(task, round);
    }

    /// @dev The model round `round` trains on: genesis for round 1, else round - 1's final result.
    function _parentModel(uint256 task, uint256 round) internal view returns (bytes32 digest, uint64 codec) {
        if (round == 1) return (_config[task].genesisDigest, _config[task].genesisCodec);
        return (_modelDigest[task][round - 1], _rounds[task][round - 1].modelCodec);
    }

    /// @dev The lineage entry of a finalized round, as stored now.
    function _lineageEntry(uint256 task, Clock memory c, uint256 round) internal view returns (FinalizedRound memory r) {
        RoundRecord memory rec = _rounds[task][round];
        (r.parentDigest, r.parentCodec) = _parentModel(task, round);
        r.modelDigest = _modelDigest[task][round];
        r.modelCodec = rec.modelCodec;
        r.rewardsRoot = _rewardsRoot[task][round];
        r.submissions = rec.submissions;
        r.attempt = rec.attempt;
        r.votes = rec.votes;
        r.finalizedAt = rec.finalizedAt;
        r.revealEnd = rec.revealEnd;
        r.budget = uint128(_budget(task, c, round));
        r.dispute = DisputeState(rec.dispute);
    }

    function _tallyKey(uint256 task, uint256 round, uint256 attempt, bytes32 result) internal pure returns (bytes32) {
        return keccak256(abi.encode(task, round, attempt, result));
    }

    /// @dev The hash a vote commits to: bound to chain, contract, task, round, attempt, kind and voter.
    function _commitment(
        uint256 kind,
        uint256 task,
        uint256 round,
        uint256 attempt,
        bytes32 modelDigest,
        uint64 modelCodec,
        bytes32 rewardsRoot,
        bytes32 salt
    ) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                kind,
                block.chainid,
                address(this),
                task,
                round,
                attempt,
                modelDigest,
                modelCodec,
                rewardsRoot,
                salt,
                msg.sender
            )
        );
    }

    /// @dev Seats `account` holds among `k` drawn from `seed` (0 when not drawn).
    function _seatsOf(uint256 task, address account, bytes32 seed, uint256 k, uint256 totalStake)
        internal
        view
        returns (uint256)
    {
        Stake memory s = _stakes[task][account];
        return StakeSeats.seatsIn(seed, k, totalStake, s.start, s.stake);
    }

    /// @dev The slash of one bad vote: `slashBps` of the member's join stake.
    function _slashAmount(uint256 task, address account) internal view returns (uint256) {
        return uint256(_stakes[task][account].stake) * _config[task].slashBps / 10_000;
    }

    /// @dev Reverts unless `m` could still pay one slash (a member slashed dry cannot vote for free).
    function _requireSolvent(uint256 task, Member memory m, address account) internal view {
        uint256 needed = _slashAmount(task, account);
        if (m.balance < needed) revert FedMarketBalanceTooLow(task, account, m.balance, needed);
    }

    /// @dev The slash of one bad vote (committed and silent, absent, or wrong); caller stores `m`.
    function _slashVote(uint256 task, uint16 round, uint8 attempt, Member memory m, address account)
        internal
        returns (Member memory)
    {
        return _slash(task, round, attempt, m, account, _slashAmount(task, account));
    }

    /// @dev Takes `amount` (capped at the balance) from `m` into the pool; the caller stores `m`.
    function _slash(uint256 task, uint16 round, uint8 attempt, Member memory m, address account, uint256 amount)
        internal
        returns (Member memory)
    {
        if (amount > m.balance) amount = m.balance;
        m.balance -= uint96(amount);
        _funds[task].pool += uint128(amount);
        emit Slashed(task, round, account, attempt, amount, 0);
        return m;
    }

    /// @dev Settles `account`'s last round vote (caller checked it is settleable; caller stores `m`).
    /// Committed but never revealed: slash. Revealed in an attempt that did not finalize: nothing.
    /// Revealed in the finalizing attempt: the final result earns the fee per seat; the result a
    /// dispute overturned loses the whole balance (half to the challenger); anything else: slash.
    function _settleVote(uint256 task, Member memory m, address account, uint256 t)
        internal
        returns (Member memory)
    {
        uint8 state = m.voteState;
        m.voteState = VOTE_NONE;
        uint16 round = m.voteRound;
        if (state == VOTE_COMMITTED) return _slashVote(task, round, m.voteAttempt, m, account);
        RoundRecord memory rec = _rounds[task][round];
        if (rec.state != RECORD_FINAL || rec.attempt != m.voteAttempt) return m;
        bool overturned = rec.dispute == uint8(DisputeState.Overturned);
        if (state == VOTE_FINALIZED) {
            if (overturned) return _slashToChallenger(task, round, m, account);
            return _creditFee(task, round, m, account, t);
        }
        bytes32 vote = _votes[task][account];
        if (vote == _finalResult(task, round)) return _creditFee(task, round, m, account, t);
        if (overturned && vote == _challenged[task][round]) return _slashToChallenger(task, round, m, account);
        return _slashVote(task, round, m.voteAttempt, m, account);
    }

    function _creditFee(uint256 task, uint16 round, Member memory m, address account, uint256 t)
        private
        returns (Member memory)
    {
        if (t >= _claimDeadline(task, _clock[task], t)) return m; // unearned fees were swept
        uint256 fee = uint256(_config[task].committeeFee) * m.voteWeight;
        if (fee == 0) return m;
        m.balance += uint96(fee);
        _funds[task].feesEarned += uint128(fee);
        emit FeeEarned(task, round, account, fee);
        return m;
    }

    /// @dev An overturned quorum member loses its whole balance: half to the challenger, half to the pool.
    function _slashToChallenger(uint256 task, uint16 round, Member memory m, address account)
        private
        returns (Member memory)
    {
        uint256 amount = m.balance;
        uint256 toChallenger = amount / 2;
        m.balance = 0;
        _funds[task].pool += uint128(amount - toChallenger);
        address challenger = _disputes[task][round].challenger;
        if (challenger == account) {
            m.balance = uint96(toChallenger); // slashing oneself returns only half
        } else {
            _members[task][challenger].balance += uint96(toChallenger);
        }
        emit Slashed(task, round, account, m.voteAttempt, amount, toChallenger);
        return m;
    }

    /// @dev Settles `account`'s last dispute vote (its dispute is resolved; caller stores `m`).
    /// Committed but never revealed: slash. Revealed: slashed unless the dispute was inconclusive
    /// or the vote is the round's final result.
    function _settleDisputeVote(uint256 task, Member memory m, address account) internal returns (Member memory) {
        uint8 state = m.disputeState;
        m.disputeState = VOTE_NONE;
        uint16 round = m.disputeRound;
        uint256 outcome = _rounds[task][round].dispute;
        bool good = state == VOTE_REVEALED
            && (outcome == uint8(DisputeState.Inconclusive) || _disputeVotes[task][account] == _finalResult(task, round));
        if (good) return m;
        return _slashVote(task, round, DISPUTE_ATTEMPT, m, account);
    }

    /// @dev Whether `m`'s last round vote can be settled at time `t`.
    function _voteSettleable(uint256 task, Clock memory c, Member memory m, uint256 t) internal view returns (bool) {
        if (m.voteState == VOTE_NONE) return false;
        uint256 round = m.voteRound;
        if (round < c.round) {
            RoundRecord memory rec = _rounds[task][round];
            // A failed attempt of a round that later finalized: its windows are long over.
            if (rec.attempt != m.voteAttempt) return true;
            return _roundSettled(c, round, t);
        }
        (Phase p, uint256 attempt,) = _phaseAt(c, t);
        return p == Phase.Closed || attempt > m.voteAttempt;
    }

    /// @dev Whether `m`'s last dispute vote can be settled (its dispute is resolved).
    function _disputeSettleable(uint256 task, Member memory m) internal view returns (bool) {
        if (m.disputeState == VOTE_NONE) return false;
        uint256 outcome = _rounds[task][m.disputeRound].dispute;
        return outcome > uint8(DisputeState.Open);
    }

    /// @dev Settles whatever of `m` is settleable; the caller stores `m`.
    function _settleAll(uint256 task, Clock memory c, Member memory m, address account, uint256 t)
        internal
        returns (Member memory)
    {
        if (_voteSettleable(task, c, m, t)) m = _settleVote(task, m, account, t);
        if (_disputeSettleable(task, m)) m = _settleDisputeVote(task, m, account);
        return m;
    }

    /// @dev Round `round`'s share of the bounty (the last round also gets the division's remainder).
    function _share(Config storage cfg, uint256 round) internal view returns (uint256 share) {
        share = cfg.bounty / cfg.rounds;
        if (round == cfg.rounds) share = cfg.bounty - share * (cfg.rounds - 1);
    }

    /// @dev The rewards budget of a round: its share less the committee fees reserved for its seats.
    function _budget(uint256 task, Clock memory c, uint256 round) internal view returns (uint256) {
        Config storage cfg = _config[task];
        return _share(cfg, round) - uint256(cfg.committeeFee) * c.committeeSize;
    }

    /// @dev Emits `TaskClosed` once, the first time a payout sees the task closed.
    function _markClosed(uint256 task, Clock memory c) internal {
        (Phase p,,) = _phaseAt(c, block.timestamp);
        if (p != Phase.Closed || c.status == STATUS_CLOSED) return;
        _clock[task].status = STATUS_CLOSED;
        emit TaskClosed(task, c.round, _endTime(c, block.timestamp));
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
