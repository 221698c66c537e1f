// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketBase} from "./MarketBase.sol";
import {CohortDraw} from "./CohortDraw.sol";
import {StakeSeats} from "./StakeSeats.sol";

/// @title MarketViews: read-only views a node, an auditor or a UI needs
/// @notice Everything here is also reconstructible from events; views exist so a node can decide
/// what to do next with a single call (`roundState`) and check its seats (`seatsOf`).
abstract contract MarketViews is MarketBase {
    /// @notice Number of tasks created so far (task ids are 1..taskCount).
    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    /// @notice A task's creation parameters, its requester and the start time of round 1.
    /// @param task the task id
    function taskInfo(uint256 task)
        external
        view
        returns (TaskParams memory params, address requester, uint40 startTime)
    {
        Clock memory c = _loadClock(task);
        Config storage cfg = _config[task];
        params = TaskParams({
            manifestDigest: cfg.manifestDigest,
            manifestCodec: cfg.manifestCodec,
            genesisDigest: cfg.genesisDigest,
            genesisCodec: cfg.genesisCodec,
            token: cfg.token,
            bounty: cfg.bounty,
            rounds: cfg.rounds,
            maxParticipants: cfg.maxParticipants,
            minSubmissions: cfg.minSubmissions,
            committeeSize: c.committeeSize,
            quorum: c.quorum,
            disputeSize: cfg.disputeSize,
            joinDuration: cfg.joinDuration,
            trainDuration: c.trainDuration,
            commitDuration: c.commitDuration,
            revealDuration: c.revealDuration,
            challengeDuration: c.challengeDuration,
            claimDuration: cfg.claimDuration,
            minStake: cfg.minStake,
            slashBps: cfg.slashBps,
            committeeFee: cfg.committeeFee,
            challengeBond: cfg.challengeBond,
            maxRetries: c.maxRetries,
            cohortSize: cfg.cohortSize
        });
        return (params, cfg.requester, cfg.startTime);
    }

    /// @notice The task's phase at the current block time.
    /// @param task the task id
    function phase(uint256 task) external view returns (Phase p) {
        (p,,) = _phaseAt(_loadClock(task), block.timestamp);
    }

    /// @notice The round being worked on (rounds + 1 once finished).
    /// @param task the task id
    function currentRound(uint256 task) external view returns (uint16) {
        return _loadClock(task).round;
    }

    /// @notice The current round, attempt, phase, windows, submissions, update commitment,
    /// locked seed (zero until `lockSeed`) and parent model, at the current block time. Once
    /// Finished, `attemptStart` is when payouts open (the close of the last challenge window).
    /// @param task the task id
    function roundState(uint256 task) public view returns (RoundState memory s) {
        Clock memory c = _loadClock(task);
        (Phase p, uint256 attempt, uint256 start) = _phaseAt(c, block.timestamp);
        s.round = c.round;
        s.phase = p;
        s.attempt = attempt > type(uint8).max ? type(uint8).max : uint8(attempt);
        s.submissions = c.submissions;
        s.updateCommitment = c.submissions == 0 ? bytes32(0) : _updateHead[task];
        s.attemptStart = uint40(start);
        if (p == Phase.Finished || p == Phase.Cancelled || p == Phase.Disputed) return s;
        s.trainEnd = uint40(start + c.trainDuration);
        s.attestEnd = s.trainEnd + c.commitDuration;
        s.commitEnd = s.attestEnd + c.commitDuration;
        s.revealEnd = s.commitEnd + c.revealDuration;
        Draw memory d = _draw[task];
        if (d.locked && d.round == c.round && d.attempt == attempt) s.seed = _seed[task];
        (s.parentDigest, s.parentCodec) = _parentModel(task, c.round);
        if (c.sampled) s.cohortSeed = _cohortSeed[task][c.round];
    }

    /// @notice Round `round`'s cohort seed (zero until drawn, and in a task without a cohort).
    /// @param task the task id
    /// @param round the round
    function cohortSeed(uint256 task, uint16 round) external view returns (bytes32) {
        return _cohortSeed[task][round];
    }

    /// @notice Whether `account` may train in the current round: a member, and in the drawn
    /// cohort when the task samples one (false while the cohort is not drawn).
    /// @param task the task id
    /// @param account the account
    function inCohort(uint256 task, address account) public view returns (bool) {
        Clock memory c = _loadClock(task);
        uint256 index1 = _members[task][account].index1;
        if (index1 == 0) return false;
        if (!c.sampled) return true;
        bytes32 seed = _cohortSeed[task][c.round];
        if (seed == bytes32(0)) return false;
        return CohortDraw.contains(seed, index1 - 1, c.memberCount, _config[task].cohortSize);
    }

    /// @notice Everything a node decides its next step from, in one read: `roundState`, its
    /// `member` record, whether it may train this round (`inCohort`) and the block time read at.
    /// @param task the task id
    /// @param account the node's account
    function nodeState(uint256 task, address account)
        external
        view
        returns (RoundState memory round, MemberInfo memory me, bool trains, uint256 timestamp)
    {
        return (roundState(task), member(task, account), inCohort(task, account), block.timestamp);
    }

    /// @notice When the task ended (0 while it runs) and its claim deadline.
    /// @param task the task id
    function endTime(uint256 task) external view returns (uint256 end, uint256 claimDeadline) {
        Clock memory c = _loadClock(task);
        end = _endTime(c, block.timestamp);
        claimDeadline = _claimDeadline(task, c, block.timestamp);
    }

    /// @notice The (round, attempt) of `account`'s last availability attestation (0, 0: none).
    /// @param task the task id
    /// @param account the member
    function lastAttested(uint256 task, address account) external view returns (uint16 round, uint8 attempt) {
        uint24 tag = _members[task][account].attested;
        return (uint16(tag >> 8), uint8(tag));
    }

    /// @notice A member's state (`isMember == false` for strangers).
    /// @param task the task id
    /// @param account the account
    function member(uint256 task, address account) public view returns (MemberInfo memory info) {
        Member memory m = _members[task][account];
        if (m.index1 == 0) return info;
        Stake memory s = _stakes[task][account];
        info = MemberInfo({
            isMember: true,
            index: m.index1 - 1,
            balance: m.balance,
            stake: s.stake,
            stakeStart: s.start,
            lastSubmittedRound: m.lastSubmitted,
            voteRound: m.voteRound,
            voteAttempt: m.voteAttempt,
            voteState: m.voteState,
            voteWeight: m.voteWeight,
            disputeRound: m.disputeRound,
            disputeState: m.disputeState,
            disputeWeight: m.disputeWeight,
            withdrawn: m.withdrawn
        });
    }

    /// @notice All members in join order.
    /// @param task the task id
    function members(uint256 task) external view returns (address[] memory list) {
        uint256 n = _loadClock(task).memberCount;
        list = new address[](n);
        for (uint256 i; i < n; ++i) {
            list[i] = _memberAt[task][i];
        }
    }

    /// @notice The secure-aggregation public key a member registered (32 or 33 bytes; empty for strangers).
    /// @param task the task id
    /// @param account the member
    function pubkey(uint256 task, address account) external view returns (bytes memory) {
        if (_members[task][account].index1 == 0) return "";
        bytes32 body = _pubkeys[task][account];
        uint8 prefix = _stakes[task][account].pubkeyPrefix;
        if (prefix == 0) return abi.encodePacked(body);
        return abi.encodePacked(prefix, body);
    }

    /// @notice The latest locked seat draw: its (round, attempt), seed and the total stake.
    /// @param task the task id
    function lastDraw(uint256 task)
        external
        view
        returns (uint16 round, uint8 attempt, bool locked, bytes32 seed, uint256 totalStake)
    {
        Draw memory d = _draw[task];
        return (d.round, d.attempt, d.locked, d.locked ? _seed[task] : bytes32(0), d.totalStake);
    }

    /// @notice Seats `account` holds in the latest locked draw.
    /// @param task the task id
    /// @param account the member
    function seatsOf(uint256 task, address account) external view returns (uint256) {
        Draw memory d = _draw[task];
        if (!d.locked) return 0;
        return _seatsOf(task, account, _seed[task], _loadClock(task).committeeSize, d.totalStake);
    }

    /// @notice The seat owners of the latest locked draw, seat by seat (an address repeats for each seat it holds).
    /// @param task the task id
    function committee(uint256 task) external view returns (address[] memory owners) {
        Draw memory d = _draw[task];
        Clock memory c = _loadClock(task);
        if (!d.locked) return owners;
        return _owners(task, c.memberCount, _seed[task], c.committeeSize, d.totalStake);
    }

    /// @notice The seat owners of round `round`'s dispute committee (void seats included as their owners).
    /// @param task the task id
    /// @param round the disputed round
    function disputeCommittee(uint256 task, uint16 round) external view returns (address[] memory owners) {
        Clock memory c = _loadClock(task);
        if (!_disputes[task][round].seeded) return owners;
        return _owners(task, c.memberCount, _disputeSeed[task][round], _config[task].disputeSize, _draw[task].totalStake);
    }

    /// @notice The lineage entry of a finalized round (the dispute's result if it was overturned).
    /// @param task the task id
    /// @param round the round
    function finalizedRound(uint256 task, uint16 round) external view returns (FinalizedRound memory r) {
        if (_rounds[task][round].state != RECORD_FINAL) revert FedMarketRoundNotFinalized(task, round);
        return _lineageEntry(task, _loadClock(task), round);
    }

    /// @notice Whether round `round` is settled (window closed, dispute resolved): payable.
    function roundSettled(uint256 task, uint16 round) external view returns (bool) {
        Clock memory c = _loadClock(task);
        return _rounds[task][round].state == RECORD_FINAL && _roundSettled(c, round, block.timestamp);
    }

    /// @notice Round `round`'s dispute.
    function dispute(uint256 task, uint16 round) external view returns (DisputeInfo memory info) {
        Dispute memory d = _disputes[task][round];
        if (d.start == 0) return info;
        Clock memory c = _clock[task];
        info = DisputeInfo({
            state: DisputeState(_rounds[task][round].dispute),
            challenger: d.challenger,
            start: d.start,
            commitEnd: d.start + c.commitDuration,
            revealEnd: d.start + c.commitDuration + c.revealDuration,
            seed: _disputeSeed[task][round],
            original: _originalResult(task, round),
            leader: _leader[task][round] == SENTINEL ? bytes32(0) : _leader[task][round],
            leaderSeats: d.leaderSeats,
            revealedSeats: d.revealedSeats
        });
    }

    /// @notice Seats revealing this result in (`round`, `attempt`) (attempt 255: the dispute).
    function votesFor(
        uint256 task,
        uint16 round,
        uint8 attempt,
        bytes32 modelDigest,
        uint64 modelCodec,
        bytes32 rewardsRoot
    ) external view returns (uint256) {
        return _tally[_tallyKey(task, round, attempt, _resultHash(modelDigest, modelCodec, rewardsRoot))];
    }

    /// @notice Whether `account` claimed its reward for `round`.
    function claimed(uint256 task, uint16 round, address account) external view returns (bool) {
        uint256 index1 = _members[task][account].index1;
        if (index1 == 0) return false;
        return (_claimed[task][round][(index1 - 1) >> 8] >> ((index1 - 1) & 0xff)) & 1 == 1;
    }

    /// @notice Total rewards paid out for `round` so far (never above its budget).
    function roundPaid(uint256 task, uint16 round) external view returns (uint256) {
        return _paid[task][round];
    }

    /// @notice The requester's books: slash pool (incl. forfeited bonds), swept so far, rewards
    /// paid and fees earned over all rounds.
    function funds(uint256 task)
        external
        view
        returns (uint256 pool, uint256 swept, uint256 rewardsPaid, uint256 feesEarned)
    {
        Funds memory f = _funds[task];
        return (f.pool - 1, f.swept - 1, f.rewardsPaid - 1, f.feesEarned - 1); // stored plus one
    }

    /// @dev Owner of each of `k` seats: binary search of the members' stake intervals (view only).
    function _owners(uint256 task, uint256 n, bytes32 seed, uint256 k, uint256 totalStake)
        private
        view
        returns (address[] memory owners)
    {
        owners = new address[](k);
        for (uint256 j; j < k; ++j) {
            uint256 p = StakeSeats.point(seed, j, totalStake);
            uint256 lo;
            uint256 hi = n;
            while (hi - lo > 1) {
                uint256 mid = (lo + hi) / 2;
                if (_stakes[task][_memberAt[task][mid]].start <= p) lo = mid;
                else hi = mid;
            }
            owners[j] = _memberAt[task][lo];
        }
    }
}
