// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CommitteeDraw} from "./CommitteeDraw.sol";
import {Rewards} from "./Rewards.sol";

/// @title MarketViews: read-only views a node, an auditor or a UI needs
/// @notice Everything here is also reconstructible from events; views exist so a node can decide
/// what to do next with a single call (`roundState`) and check its committee seat (`isCommitteeMember`).
abstract contract MarketViews is Rewards {
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
            joinDuration: cfg.joinDuration,
            trainDuration: c.trainDuration,
            commitDuration: c.commitDuration,
            revealDuration: c.revealDuration,
            stake: cfg.stake,
            slashBps: cfg.slashBps,
            committeeFee: cfg.committeeFee,
            maxRetries: c.maxRetries
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
    /// committee seed and parent model, at the current block time. Once Finished, only
    /// `attemptStart` is set: the end of the last reveal window, when payouts open.
    /// @param task the task id
    function roundState(uint256 task) external view returns (RoundState memory s) {
        Clock memory c = _loadClock(task);
        (Phase p, uint256 attempt, uint256 start) = _phaseAt(c, block.timestamp);
        s.round = c.round;
        s.phase = p;
        s.attempt = attempt > type(uint8).max ? type(uint8).max : uint8(attempt);
        s.submissions = c.submissions;
        s.updateCommitment = c.submissions == 0 ? bytes32(0) : _updateHead[task];
        s.attemptStart = uint40(start); // Finished: when payouts open (the last reveal window's end)
        if (p == Phase.Finished || p == Phase.Cancelled) return s;
        s.trainEnd = uint40(start + c.trainDuration);
        s.commitEnd = s.trainEnd + c.commitDuration;
        s.revealEnd = s.commitEnd + c.revealDuration;
        s.seed = _attemptSeed(_seedBase[task], c.round, s.attempt);
        (s.parentDigest, s.parentCodec) = _parentModel(task, c.round);
    }

    /// @notice Whether payouts (stake withdrawal, refund) are open: the task ended and its last reveal window closed.
    /// @param task the task id
    function ended(uint256 task) external view returns (bool) {
        return _ended(_loadClock(task), block.timestamp);
    }

    /// @notice A member's state (`isMember == false` for strangers).
    /// @param task the task id
    /// @param account the account
    function member(uint256 task, address account) external view returns (MemberInfo memory info) {
        Member memory m = _members[task][account];
        if (m.index1 == 0) return info;
        return MemberInfo({
            isMember: true,
            index: m.index1 - 1,
            balance: m.balance,
            lastSubmittedRound: m.lastSubmitted,
            voteRound: m.voteRound,
            voteAttempt: m.voteAttempt,
            voteState: m.voteState,
            withdrawn: m.withdrawn
        });
    }

    /// @notice All members in join order (index i is member i of the committee draw).
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
        Member memory m = _members[task][account];
        if (m.index1 == 0) return "";
        bytes32 body = _pubkeys[task][account];
        if (m.pubkeyPrefix == 0) return abi.encodePacked(body);
        return abi.encodePacked(m.pubkeyPrefix, body);
    }

    /// @notice The committee seed of (`round`, `attempt`):
    /// keccak256(abi.encode(seedBase, round, attempt)), seedBase = seed0 for round 1, else
    /// keccak256(abi.encode(seed0, model digest, rewards root)) of round - 1.
    /// @param task the task id
    /// @param round a round up to the current one
    /// @param attempt the attempt (0-based)
    function committeeSeed(uint256 task, uint16 round, uint8 attempt) public view returns (bytes32) {
        Clock memory c = _loadClock(task);
        if (round == 0 || round > c.round) revert FedMarketWrongRound(task, round, c.round);
        bytes32 base;
        if (round == c.round) {
            base = _seedBase[task];
        } else if (round == 1) {
            base = _config[task].seed0;
        } else {
            RoundRecord storage prev = _rounds[task][round - 1];
            base = keccak256(abi.encode(_config[task].seed0, prev.modelDigest, prev.rewardsRoot));
        }
        return _attemptSeed(base, round, attempt);
    }

    /// @notice The committee of (`round`, `attempt`) in draw order.
    /// @param task the task id
    /// @param round a round up to the current one
    /// @param attempt the attempt (0-based)
    function committee(uint256 task, uint16 round, uint8 attempt) external view returns (address[] memory list) {
        Clock memory c = _loadClock(task);
        uint256[] memory picked = CommitteeDraw.draw(committeeSeed(task, round, attempt), c.memberCount, c.committeeSize);
        list = new address[](picked.length);
        for (uint256 i; i < picked.length; ++i) {
            list[i] = _memberAt[task][picked[i]];
        }
    }

    /// @notice Whether `account` sits on the committee of (`round`, `attempt`).
    /// @param task the task id
    /// @param round a round up to the current one
    /// @param attempt the attempt (0-based)
    /// @param account the account
    function isCommitteeMember(uint256 task, uint16 round, uint8 attempt, address account)
        external
        view
        returns (bool)
    {
        Clock memory c = _loadClock(task);
        uint256 index1 = _members[task][account].index1;
        if (index1 == 0 || c.memberCount < c.committeeSize) return false;
        return CommitteeDraw.contains(committeeSeed(task, round, attempt), c.memberCount, c.committeeSize, index1 - 1);
    }

    /// @notice The lineage entry of a finalized round.
    /// @param task the task id
    /// @param round the round
    function finalizedRound(uint256 task, uint16 round) external view returns (FinalizedRound memory r) {
        RoundRecord storage rec = _rounds[task][round];
        if (rec.finalizedAt == 0) revert FedMarketRoundNotFinalized(task, round);
        (r.parentDigest, r.parentCodec) = _parentModel(task, round);
        r.modelDigest = rec.modelDigest;
        r.modelCodec = rec.modelCodec;
        r.updateCommitment = rec.updateCommitment;
        r.submissions = rec.submissions;
        r.rewardsRoot = rec.rewardsRoot;
        r.attempt = rec.attempt;
        r.votes = rec.votes;
        r.finalizedAt = rec.finalizedAt;
        r.revealEnd = rec.revealEnd;
        r.budget = rec.budget;
    }

    /// @notice How many committee members revealed this result in (`round`, `attempt`).
    function votesFor(
        uint256 task,
        uint16 round,
        uint8 attempt,
        bytes32 modelDigest,
        uint64 modelCodec,
        bytes32 rewardsRoot
    ) external view returns (uint256) {
        return _tally[_tallyKey(task, round, attempt, _resultHash(modelDigest, modelCodec, rewardsRoot))] & 0xffff;
    }

    /// @notice Whether `account` claimed its reward for `round`.
    function claimed(uint256 task, uint16 round, address account) external view returns (bool) {
        uint256 index1 = _members[task][account].index1;
        if (index1 == 0) return false;
        return (_claimed[task][round][(index1 - 1) >> 8] >> ((index1 - 1) & 0xff)) & 1 == 1;
    }

    /// @notice Total rewards paid out for `round` so far (never above its budget).
    function roundPaid(uint256 task, uint16 round) external view returns (uint256) {
        return _rounds[task][round].paid;
    }

    /// @notice Bounty not yet assigned to a round, and slashed stake waiting for the next round (or the refund).
    function funds(uint256 task) external view returns (uint256 unallocated, uint256 slashPool) {
        Funds memory f = _funds[task];
        return (f.unallocated, f.slashPool);
    }
}
