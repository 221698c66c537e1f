// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CohortDraw} from "./CohortDraw.sol";
import {MarketBase} from "./MarketBase.sol";

/// @title Rounds: update submission, the late seed, committee commit-reveal and finalization
/// @notice Each attempt of a round has four phases: train (members submit updates), attest (the
/// attempt's seed is locked, then its seat holders say which updates they fetched, verified and
/// pinned: an update held by `quorum` seats is available, and only available updates are
/// aggregated), commit (seat holders commit to a hidden result), reveal (they open it). The reveal that brings a result to `quorum` seats finalizes the round; the next round
/// starts when the attempt's reveal window plus the challenge window have passed (or when a
/// dispute of the round is resolved). An attempt without quorum is followed by a new attempt (new
/// train window for members who have not submitted yet, new seed), up to `maxRetries` retries;
/// then the task is Closed.
/// Updates are not stored: each folds into the round's hash chain
/// `head = keccak256(abi.encode(prev, participant, digest, codec, numSamples))`, with prev = 0
/// for the round's first update, and is emitted in `UpdateSubmitted`.
abstract contract Rounds is MarketBase {
    /// @dev A revealed result (keeps the reveal path under the stack limit).
    struct Result {
        bytes32 modelDigest;
        uint64 modelCodec;
        bytes32 rewardsRoot;
    }

    /// @notice Draws the current round's cohort (a task with `cohortSize` > 0) from the
    /// `prevrandao` of the block this lands in: in the round's train window, once joining has
    /// closed, so no member knows the cohort when it joins. Idempotent; anyone may call it, and
    /// honest nodes call it as soon as the train window opens (whoever waits for a better block is
    /// front-run). The cohort stays the same through the round's retries.
    /// @param task the task id
    function drawCohort(uint256 task) external {
        Clock memory c = _loadClock(task);
        (Phase p, uint256 attempt,) = _phaseAt(c, block.timestamp);
        if (!c.sampled) revert FedMarketNoCohort(task);
        if (p != Phase.Train) revert FedMarketWrongPhase(task, p);
        if (_cohortSeed[task][c.round] != bytes32(0)) return;
        bytes32 seed = keccak256(abi.encode(COHORT_DRAW, block.prevrandao, block.chainid, address(this), task, c.round));
        _cohortSeed[task][c.round] = seed;
        uint256 k = _config[task].cohortSize;
        if (k > c.memberCount) k = c.memberCount;
        emit CohortDrawn(task, c.round, uint8(attempt), seed, c.memberCount, uint32(k));
    }

    /// @notice Registers the caller's model update for `round` (train phase only, once per round).
    /// @param task the task id
    /// @param round the current round (1-based)
    /// @param digest the sha2-256 digest of the update's CID
    /// @param codec the CID's multicodec (0x55 raw, 0x70 dag-pb)
    /// @param numSamples the number of local training samples behind the update
    function submitUpdate(uint256 task, uint16 round, bytes32 digest, uint64 codec, uint64 numSamples) external {
        Clock memory c = _loadClock(task);
        (Phase p,,) = _phaseAt(c, block.timestamp);
        if (p != Phase.Train) revert FedMarketWrongPhase(task, p);
        if (round != c.round) revert FedMarketWrongRound(task, round, c.round);
        Member storage m = _members[task][msg.sender];
        if (m.index1 == 0) revert FedMarketNotMember(task, msg.sender);
        if (m.lastSubmitted == round) revert FedMarketAlreadySubmitted(task, round, msg.sender);
        if (c.sampled) _requireInCohort(task, c, m.index1 - 1);
        m.lastSubmitted = round;
        bytes32 head = c.submissions == 0 ? bytes32(0) : _updateHead[task];
        head = keccak256(abi.encode(head, msg.sender, digest, codec, numSamples));
        _updateHead[task] = head;
        _clock[task].submissions = c.submissions + 1;
        emit UpdateSubmitted(task, round, msg.sender, digest, codec, numSamples, c.submissions, head);
    }

    /// @dev Reverts unless member `index` is in the current round's drawn cohort.
    function _requireInCohort(uint256 task, Clock memory c, uint256 index) private view {
        bytes32 seed = _cohortSeed[task][c.round];
        if (seed == bytes32(0)) revert FedMarketCohortNotDrawn(task, c.round);
        if (!CohortDraw.contains(seed, index, c.memberCount, _config[task].cohortSize)) {
            revert FedMarketNotInCohort(task, c.round, msg.sender);
        }
    }

    /// @notice Fixes the committee seed of the current attempt from the `prevrandao` of the
    /// block this lands in: after the train window, so the submission set is final before
    /// anyone knows the committee, and from no value any member chooses. Idempotent; anyone may
    /// call it in the attest or commit window (honest nodes call it as soon as the attest window
    /// opens, so a party waiting for a better block is front-run). Also prepares the round's record slots so the
    /// finalizing reveal costs what any reveal costs.
    /// @param task the task id
    function lockSeed(uint256 task) external {
        Clock memory c = _loadClock(task);
        (Phase p, uint256 attempt,) = _phaseAt(c, block.timestamp);
        if (p != Phase.Attest && p != Phase.Commit) revert FedMarketWrongPhase(task, p);
        Draw memory d = _draw[task];
        if (d.locked && d.round == c.round && d.attempt == attempt) return;
        bytes32 seed = keccak256(abi.encode(block.prevrandao, block.chainid, address(this), task, c.round, attempt));
        _seed[task] = seed;
        _draw[task] = Draw({totalStake: d.totalStake, round: c.round, attempt: uint8(attempt), locked: true});
        RoundRecord storage rec = _rounds[task][c.round];
        if (rec.state == RECORD_NONE) {
            rec.state = RECORD_PREPARED;
            _modelDigest[task][c.round] = SENTINEL;
            _rewardsRoot[task][c.round] = SENTINEL;
        }
        emit SeedLocked(task, c.round, uint8(attempt), seed, d.totalStake);
    }

    /// @notice Says which of the current attempt's updates the caller (a seat holder) holds:
    /// bit i of `held` (word i / 256, bit i % 256) is the update with seq i. Once per attempt, in
    /// the attest window. Costs an event and one write to the caller's own slot: the available
    /// set is read from the events (`ledger.availability`), and the quorum's agreement on a result
    /// computed from it is what the chain enforces.
    /// @param task the task id
    /// @param round the current round
    /// @param held the availability bitmap, ceil(submissions / 256) words
    function attest(uint256 task, uint16 round, uint256[] calldata held) external {
        Clock memory c = _loadClock(task);
        (Phase p, uint256 attempt,) = _phaseAt(c, block.timestamp);
        if (p != Phase.Attest) revert FedMarketWrongPhase(task, p);
        if (round != c.round) revert FedMarketWrongRound(task, round, c.round);
        uint256 n = c.submissions;
        if (held.length != (n + 255) / 256 || (n % 256 != 0 && held[held.length - 1] >> (n % 256) != 0)) {
            revert FedMarketBadAttestation(task, round, held.length, n);
        }
        uint256 seats = _markAttested(task, c, round, attempt);
        emit Attested(task, round, msg.sender, uint8(attempt), uint8(seats), held);
    }

    /// @dev Checks the caller holds seats in (round, attempt) and has not attested it yet; records it.
    function _markAttested(uint256 task, Clock memory c, uint16 round, uint256 attempt) private returns (uint256 seats) {
        Member storage m = _members[task][msg.sender];
        if (m.index1 == 0) revert FedMarketNotMember(task, msg.sender);
        uint24 tag = uint24((uint256(round) << 8) | attempt);
        if (m.attested == tag) revert FedMarketAlreadyAttested(task, round, attempt, msg.sender);
        Draw memory d = _draw[task];
        if (!d.locked || d.round != round || d.attempt != attempt) revert FedMarketSeedNotLocked(task, round, attempt);
        seats = _seatsOf(task, msg.sender, _seed[task], c.committeeSize, d.totalStake);
        if (seats == 0) revert FedMarketNotInCommittee(task, round, attempt, msg.sender);
        m.attested = tag;
    }

    /// @notice Commits a seat holder to its result for the current attempt of `round`.
    /// @dev commitment = keccak256(abi.encode(0, chainid, market, task, round, attempt,
    /// modelDigest, modelCodec, rewardsRoot, salt, msg.sender)). Settles the caller's previous vote.
    /// @param task the task id
    /// @param round the current round
    /// @param commitment the hidden result
    function commit(uint256 task, uint16 round, bytes32 commitment) external {
        Clock memory c = _loadClock(task);
        (Phase p, uint256 attempt,) = _phaseAt(c, block.timestamp);
        if (p != Phase.Commit) revert FedMarketWrongPhase(task, p);
        if (round != c.round) revert FedMarketWrongRound(task, round, c.round);
        Member memory m = _members[task][msg.sender];
        if (m.index1 == 0) revert FedMarketNotMember(task, msg.sender);
        if (m.voteRound == round && m.voteAttempt == attempt) {
            revert FedMarketAlreadyCommitted(task, round, attempt, msg.sender);
        }
        uint256 minSubmissions = _config[task].minSubmissions;
        if (c.submissions < minSubmissions) {
            revert FedMarketTooFewSubmissions(task, round, c.submissions, minSubmissions);
        }
        Draw memory d = _draw[task];
        if (!d.locked || d.round != round || d.attempt != attempt) revert FedMarketSeedNotLocked(task, round, attempt);
        uint256 seats = _seatsOf(task, msg.sender, _seed[task], c.committeeSize, d.totalStake);
        if (seats == 0) revert FedMarketNotInCommittee(task, round, attempt, msg.sender);
        if (m.voteState != VOTE_NONE) m = _settleVote(task, m, msg.sender, block.timestamp);
        _requireSolvent(task, m, msg.sender);
        m.voteRound = round;
        m.voteAttempt = uint8(attempt);
        m.voteState = VOTE_COMMITTED;
        m.voteWeight = uint8(seats);
        _members[task][msg.sender] = m;
        _votes[task][msg.sender] = commitment;
        emit Committed(task, round, msg.sender, uint8(attempt), uint8(seats), commitment);
    }

    /// @notice Opens the caller's commitment for (`round`, `attempt`) during that attempt's reveal
    /// window. The reveal that brings a result to `quorum` seats finalizes the round; later
    /// reveals (until the window ends) still count for their own settlement.
    /// @param task the task id
    /// @param round the committed round
    /// @param attempt the committed attempt (0-based)
    /// @param modelDigest the aggregated model's CID digest
    /// @param modelCodec the aggregated model's CID codec
    /// @param rewardsRoot the Merkle root of (account, amount) rewards for the round
    /// @param salt the salt used in the commitment
    function reveal(
        uint256 task,
        uint16 round,
        uint8 attempt,
        bytes32 modelDigest,
        uint64 modelCodec,
        bytes32 rewardsRoot,
        bytes32 salt
    ) external {
        Clock memory c = _loadClock(task);
        Member memory m = _members[task][msg.sender];
        bool open = _revealWindow(task, c, m, round, attempt);
        bytes32 opened = _commitment(ROUND_VOTE, task, round, attempt, modelDigest, modelCodec, rewardsRoot, salt);
        if (opened != _votes[task][msg.sender]) revert FedMarketRevealMismatch(task, round, msg.sender);
        _count(task, c, m, round, attempt, Result(modelDigest, modelCodec, rewardsRoot), open);
    }

    /// @dev Adds the caller's seats to its result's tally and records its vote; finalizes the
    /// round when this reveal brings the result to the quorum in an open attempt.
    function _count(
        uint256 task,
        Clock memory c,
        Member memory m,
        uint16 round,
        uint8 attempt,
        Result memory r,
        bool open
    ) private {
        bytes32 result = _resultHash(r.modelDigest, r.modelCodec, r.rewardsRoot);
        bytes32 key = _tallyKey(task, round, attempt, result);
        uint256 before = _tally[key];
        uint256 seats = before + m.voteWeight;
        _tally[key] = seats;
        bool finalizes = open && before < c.quorum && seats >= c.quorum;
        if (finalizes) {
            m.voteState = VOTE_FINALIZED; // its vote is the record's original result
        } else {
            m.voteState = VOTE_REVEALED;
            _votes[task][msg.sender] = result;
        }
        _members[task][msg.sender] = m;
        emit Revealed(task, round, msg.sender, attempt, r.modelDigest, r.modelCodec, r.rewardsRoot, uint16(seats));
        if (finalizes) _finalize(task, c, attempt, r, seats);
    }

    /// @dev Checks the caller has an open commitment for (round, attempt) in its reveal window.
    /// Returns false when the round already finalized in this attempt (a late reveal).
    function _revealWindow(uint256 task, Clock memory c, Member memory m, uint16 round, uint8 attempt)
        private
        view
        returns (bool open)
    {
        if (m.index1 == 0) revert FedMarketNotMember(task, msg.sender);
        if (m.voteState != VOTE_COMMITTED || m.voteRound != round || m.voteAttempt != attempt) {
            revert FedMarketNoCommitment(task, round, attempt, msg.sender);
        }
        if (round == c.round) {
            (Phase p, uint256 current,) = _phaseAt(c, block.timestamp);
            if (p != Phase.Reveal || current != attempt) revert FedMarketRevealClosed(task, round, attempt);
            return true;
        }
        RoundRecord memory rec = _rounds[task][round];
        if (round + 1 == c.round && rec.attempt == attempt && block.timestamp < rec.revealEnd) return false;
        revert FedMarketRevealClosed(task, round, attempt);
    }

    function _finalize(uint256 task, Clock memory c, uint256 attempt, Result memory r, uint256 seats) private {
        uint256 attemptStart = c.roundStart + attempt * _attemptLength(c);
        uint40 revealEnd = uint40(attemptStart + _attemptLength(c));
        uint16 round = c.round;
        _rounds[task][round] = RoundRecord({
            modelCodec: r.modelCodec,
            attempt: uint8(attempt),
            state: RECORD_FINAL,
            dispute: 0,
            votes: uint16(seats),
            submissions: c.submissions,
            finalizedAt: uint40(block.timestamp),
            revealEnd: revealEnd
        });
        _modelDigest[task][round] = r.modelDigest;
        _rewardsRoot[task][round] = r.rewardsRoot;
        Clock storage clock = _clock[task];
        clock.round = round + 1;
        clock.roundStart = revealEnd + c.challengeDuration;
        clock.submissions = 0;
        bool last = round == c.rounds;
        if (last) clock.status = STATUS_FINISHED;
        _emitFinalized(task, c, round);
        if (last) emit TaskFinished(task, round);
    }

    function _emitFinalized(uint256 task, Clock memory c, uint16 round) private {
        RoundRecord memory rec = _rounds[task][round];
        emit ModelFinalized(
            task,
            round,
            _modelDigest[task][round],
            rec.modelCodec,
            c.submissions,
            _rewardsRoot[task][round],
            rec.attempt,
            rec.votes
        );
    }
}
