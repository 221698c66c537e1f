// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarketBase} from "./MarketBase.sol";

/// @title Disputes: challenging a finalized round and overturning it before any money moves
/// @notice The last finalized round can be challenged by any solvent member during its challenge
/// window (from finalization until the attempt's reveal end + `challengeDuration`), with the
/// task's bond and a proposed alternative. The next round (or the task's end) is then held back
/// until the dispute is resolved, so nothing of the round is paid meanwhile.
/// A fresh committee of `disputeSize` seats is drawn stake-weighted from a seed locked in a block
/// after the challenge's (so the challenger cannot pick it); seats of members who revealed the
/// challenged result are void. Seat holders commit and reveal their own recomputation in the
/// `commitDuration` and `revealDuration` windows that follow the challenge. The result with a
/// strict majority of revealed seats wins: if it is the challenged result, the challenge is upheld
/// and the bond goes to the pool; otherwise the round's record takes the winning result, the bond
/// returns to the challenger and every member that revealed the overturned result loses its whole
/// balance (half to the challenger, when settled). No majority: inconclusive, the result stands
/// and the bond returns. Absent, silent or losing dispute seats are slashed like round votes.
abstract contract Disputes is MarketBase {
    /// @notice Challenges round `round`'s result with the task's bond and a proposed alternative.
    /// @param task the task id
    /// @param round the last finalized round
    /// @param modelDigest the alternative model's CID digest
    /// @param modelCodec the alternative model's CID codec
    /// @param rewardsRoot the alternative rewards root
    function challenge(uint256 task, uint16 round, bytes32 modelDigest, uint64 modelCodec, bytes32 rewardsRoot)
        external
        payable
        nonReentrant
    {
        Clock memory c = _loadClock(task);
        RoundRecord storage rec = _rounds[task][round];
        if (rec.dispute != uint8(DisputeState.None)) revert FedMarketAlreadyChallenged(task, round);
        if (round + 1 != c.round || rec.state != RECORD_FINAL || block.timestamp >= c.roundStart) {
            revert FedMarketChallengeClosed(task, round);
        }
        Member memory m = _members[task][msg.sender];
        if (m.index1 == 0) revert FedMarketNotMember(task, msg.sender);
        m = _settleAll(task, c, m, msg.sender, block.timestamp); // a slashed-dry liar cannot challenge
        _requireSolvent(task, m, msg.sender);
        _members[task][msg.sender] = m;
        if (_resultHash(modelDigest, modelCodec, rewardsRoot) == _finalResult(task, round)) {
            revert FedMarketSameResult(task, round);
        }
        Config storage cfg = _config[task];
        _disputes[task][round] = Dispute({
            challenger: msg.sender,
            start: uint40(block.timestamp),
            block_: uint48(block.number),
            seeded: false,
            leaderSeats: 0,
            revealedSeats: 0
        });
        rec.dispute = uint8(DisputeState.Open);
        _clock[task].roundStart = HELD;
        uint256 bond = cfg.challengeBond;
        _pull(cfg.token, bond);
        emit Challenged(task, round, msg.sender, modelDigest, modelCodec, rewardsRoot, bond);
    }

    /// @notice Fixes the dispute committee's seed from `block.prevrandao`, in a block after the
    /// challenge's and inside the dispute's commit window. Idempotent; anyone may call it.
    /// @param task the task id
    /// @param round the disputed round
    function lockDisputeSeed(uint256 task, uint16 round) external {
        Dispute storage d = _disputes[task][round];
        (uint256 commitEnd,) = _disputeWindows(task, round);
        if (block.timestamp >= commitEnd) revert FedMarketNoDispute(task, round);
        if (d.seeded) return;
        if (block.number <= d.block_) revert FedMarketSeedTooEarly(task, round);
        bytes32 seed =
            keccak256(abi.encode(block.prevrandao, block.chainid, address(this), task, round, DISPUTE_ATTEMPT));
        _disputeSeed[task][round] = seed;
        d.seeded = true;
        _leader[task][round] = SENTINEL; // prepared: the first dispute reveal pays no fresh slot for it
        emit DisputeSeedLocked(task, round, seed);
    }

    /// @notice Commits a dispute seat holder to its own recomputation of round `round`.
    /// @dev commitment = keccak256(abi.encode(1, chainid, market, task, round, 255, modelDigest,
    /// modelCodec, rewardsRoot, salt, msg.sender)).
    /// @param task the task id
    /// @param round the disputed round
    /// @param commitment the hidden result
    function disputeCommit(uint256 task, uint16 round, bytes32 commitment) external {
        (uint256 commitEnd,) = _disputeWindows(task, round);
        if (block.timestamp >= commitEnd) revert FedMarketNoDispute(task, round);
        if (!_disputes[task][round].seeded) revert FedMarketSeedNotLocked(task, round, DISPUTE_ATTEMPT);
        Member memory m = _members[task][msg.sender];
        if (m.index1 == 0) revert FedMarketNotMember(task, msg.sender);
        if (m.disputeRound == round) revert FedMarketAlreadyCommitted(task, round, DISPUTE_ATTEMPT, msg.sender);
        uint256 seats = _disputeSeats(task, round, m, msg.sender);
        if (seats == 0) revert FedMarketNotInCommittee(task, round, DISPUTE_ATTEMPT, msg.sender);
        m = _settleAll(task, _clock[task], m, msg.sender, block.timestamp);
        _requireSolvent(task, m, msg.sender);
        m.disputeRound = round;
        m.disputeState = VOTE_COMMITTED;
        m.disputeWeight = uint8(seats);
        _members[task][msg.sender] = m;
        _disputeVotes[task][msg.sender] = commitment;
        emit DisputeCommitted(task, round, msg.sender, uint8(seats), commitment);
    }

    /// @notice Opens the caller's dispute commitment in the dispute's reveal window.
    /// @param task the task id
    /// @param round the disputed round
    /// @param modelDigest the model's CID digest
    /// @param modelCodec the model's CID codec
    /// @param rewardsRoot the rewards root
    /// @param salt the salt used in the commitment
    function disputeReveal(
        uint256 task,
        uint16 round,
        bytes32 modelDigest,
        uint64 modelCodec,
        bytes32 rewardsRoot,
        bytes32 salt
    ) external {
        (uint256 commitEnd, uint256 revealEnd) = _disputeWindows(task, round);
        if (block.timestamp < commitEnd || block.timestamp >= revealEnd) {
            revert FedMarketRevealClosed(task, round, DISPUTE_ATTEMPT);
        }
        uint256 weight = _openDispute(task, round, modelDigest, modelCodec, rewardsRoot, salt);
        bytes32 result = _resultHash(modelDigest, modelCodec, rewardsRoot);
        bytes32 key = _tallyKey(task, round, DISPUTE_ATTEMPT, result);
        uint256 seats = _tally[key] + weight;
        _tally[key] = seats;
        Dispute storage d = _disputes[task][round];
        d.revealedSeats += uint16(weight);
        if (seats > d.leaderSeats) {
            d.leaderSeats = uint16(seats);
            _leader[task][round] = result;
        }
        emit DisputeRevealed(task, round, msg.sender, modelDigest, modelCodec, rewardsRoot, uint16(seats));
    }

    /// @dev Checks and opens the caller's dispute commitment; returns its seats.
    function _openDispute(
        uint256 task,
        uint16 round,
        bytes32 modelDigest,
        uint64 modelCodec,
        bytes32 rewardsRoot,
        bytes32 salt
    ) private returns (uint256) {
        Member memory m = _members[task][msg.sender];
        if (m.disputeState != VOTE_COMMITTED || m.disputeRound != round) {
            revert FedMarketNoCommitment(task, round, DISPUTE_ATTEMPT, msg.sender);
        }
        bytes32 opened =
            _commitment(DISPUTE_VOTE, task, round, DISPUTE_ATTEMPT, modelDigest, modelCodec, rewardsRoot, salt);
        if (opened != _disputeVotes[task][msg.sender]) revert FedMarketRevealMismatch(task, round, msg.sender);
        _disputeVotes[task][msg.sender] = _resultHash(modelDigest, modelCodec, rewardsRoot);
        m.disputeState = VOTE_REVEALED;
        _members[task][msg.sender] = m;
        return m.disputeWeight;
    }

    /// @notice Ends the dispute of `round` after its reveal window and releases the next round.
    /// @dev Permissionless. For an overturn the caller passes the winning result (from the
    /// `DisputeRevealed` events; checked against the leader's hash); otherwise they are ignored.
    /// @param task the task id
    /// @param round the disputed round
    /// @param modelDigest the winning model's CID digest
    /// @param modelCodec the winning model's CID codec
    /// @param rewardsRoot the winning rewards root
    function resolveDispute(uint256 task, uint16 round, bytes32 modelDigest, uint64 modelCodec, bytes32 rewardsRoot)
        external
    {
        (, uint256 revealEnd) = _disputeWindows(task, round);
        if (block.timestamp < revealEnd) revert FedMarketDisputeNotOver(task, round, revealEnd);
        Dispute memory d = _disputes[task][round];
        bytes32 leader = _leader[task][round];
        DisputeState outcome;
        if (d.leaderSeats * 2 <= uint256(d.revealedSeats) || d.revealedSeats == 0) {
            outcome = DisputeState.Inconclusive;
        } else if (leader == _finalResult(task, round)) {
            outcome = DisputeState.Upheld;
        } else {
            if (_resultHash(modelDigest, modelCodec, rewardsRoot) != leader) revert FedMarketNotLeader(task, round);
            outcome = DisputeState.Overturned;
            _challenged[task][round] = _finalResult(task, round);
            _modelDigest[task][round] = modelDigest;
            _rewardsRoot[task][round] = rewardsRoot;
            _rounds[task][round].modelCodec = modelCodec;
        }
        _rounds[task][round].dispute = uint8(outcome);
        _clock[task].roundStart = uint40(block.timestamp);
        uint96 bond = _config[task].challengeBond;
        if (outcome == DisputeState.Upheld) _funds[task].pool += bond;
        else _members[task][d.challenger].balance += bond;
        _emitResolved(task, round, outcome, d.leaderSeats, d.revealedSeats);
    }

    function _emitResolved(uint256 task, uint16 round, DisputeState outcome, uint16 leaderSeats, uint16 revealedSeats)
        private
    {
        bytes32 digest = _modelDigest[task][round];
        bytes32 root = _rewardsRoot[task][round];
        uint64 codec = _rounds[task][round].modelCodec;
        emit DisputeResolved(task, round, outcome, digest, codec, root, leaderSeats, revealedSeats);
    }

    /// @notice Slashes `account` for holding a dispute seat of `round` and not committing.
    /// @dev Possible after the dispute's commit window while `round` is the last finalized round.
    /// @param task the task id
    /// @param account the absentee
    /// @param round the disputed round
    function slashDisputeAbsent(uint256 task, address account, uint16 round) external {
        (uint256 commitEnd,) = _disputeWindowsAny(task, round);
        Clock memory c = _loadClock(task);
        Member memory m = _members[task][account];
        if (m.index1 == 0) revert FedMarketNotMember(task, account);
        bool seeded = _disputes[task][round].seeded;
        if (!seeded || block.timestamp < commitEnd || round + 1 != c.round || m.disputeRound == round) {
            revert FedMarketNotAbsent(task, round, DISPUTE_ATTEMPT, account);
        }
        if (_disputeSeats(task, round, m, account) == 0) {
            revert FedMarketNotInCommittee(task, round, DISPUTE_ATTEMPT, account);
        }
        if (m.disputeState != VOTE_NONE) m = _settleDisputeVote(task, m, account);
        m.disputeRound = round;
        m.disputeState = VOTE_NONE;
        _members[task][account] = _slashVote(task, round, DISPUTE_ATTEMPT, m, account);
    }

    /// @dev Dispute seats of `account` (0 for members who revealed the challenged result).
    function _disputeSeats(uint256 task, uint16 round, Member memory m, address account)
        internal
        view
        returns (uint256)
    {
        bool challengedQuorum = m.voteRound == round && m.voteAttempt == _rounds[task][round].attempt
            && (m.voteState == VOTE_FINALIZED
                || (m.voteState == VOTE_REVEALED && _votes[task][account] == _originalResult(task, round)));
        if (challengedQuorum) return 0;
        return _seatsOf(
            task, account, _disputeSeed[task][round], _config[task].disputeSize, _draw[task].totalStake
        );
    }

    /// @dev The open dispute's commit and reveal ends (reverts when `round` has no open dispute).
    function _disputeWindows(uint256 task, uint16 round) internal view returns (uint256 commitEnd, uint256 revealEnd) {
        if (_rounds[task][round].dispute != uint8(DisputeState.Open)) revert FedMarketNoDispute(task, round);
        return _disputeWindowsAny(task, round);
    }

    /// @dev A dispute's commit and reveal ends, open or resolved.
    function _disputeWindowsAny(uint256 task, uint16 round)
        internal
        view
        returns (uint256 commitEnd, uint256 revealEnd)
    {
        Clock memory c = _clock[task];
        uint256 start = _disputes[task][round].start;
        if (start == 0) revert FedMarketNoDispute(task, round);
        commitEnd = start + c.commitDuration;
        revealEnd = commitEnd + c.revealDuration;
    }
}
