// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CommitteeDraw} from "./CommitteeDraw.sol";
import {Membership} from "./Membership.sol";

/// @title Rounds: update submission, committee commit-reveal and finalization
/// @notice Each attempt of a round has three phases: train (members submit updates), commit
/// (committee members commit to a hidden result), reveal (they open it). The q-th matching reveal
/// finalizes the round at once. An attempt without quorum is followed by a new attempt (new train
/// window for members who have not submitted yet, new committee), up to `maxRetries` retries;
/// then the task is Closed. The next round starts when the finalizing attempt's reveal window ends,
/// so rounds never overlap and late reveals of the quorum's peers still count.
/// Updates are not stored: each folds into the round's hash chain
/// `head = keccak256(abi.encode(prev, participant, digest, codec, numSamples))`, with prev = 0
/// for the round's first update, and is emitted in `UpdateSubmitted`.
abstract contract Rounds is Membership {
    /// @dev A revealed result (keeps the reveal path under the stack limit).
    struct Result {
        bytes32 modelDigest;
        uint64 modelCodec;
        bytes32 rewardsRoot;
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
        m.lastSubmitted = round;
        bytes32 head = c.submissions == 0 ? bytes32(0) : _updateHead[task];
        head = keccak256(abi.encode(head, msg.sender, digest, codec, numSamples));
        _updateHead[task] = head;
        _clock[task].submissions = c.submissions + 1;
        emit UpdateSubmitted(task, round, msg.sender, digest, codec, numSamples, c.submissions, head);
    }

    /// @notice Commits a committee member to its result for the current attempt of `round`.
    /// @dev commitment = keccak256(abi.encode(modelDigest, modelCodec, rewardsRoot, salt, msg.sender)).
    /// Settles the caller's previous vote first.
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
        bytes32 seed = _attemptSeed(_seedBase[task], round, attempt);
        if (!CommitteeDraw.contains(seed, c.memberCount, c.committeeSize, m.index1 - 1)) {
            revert FedMarketNotInCommittee(task, round, attempt, msg.sender);
        }
        if (m.voteState != VOTE_NONE && m.voteRound == round && m.voteAttempt == attempt) {
            revert FedMarketAlreadyCommitted(task, round, attempt, msg.sender);
        }
        uint256 minSubmissions = _config[task].minSubmissions;
        if (c.submissions < minSubmissions) {
            revert FedMarketTooFewSubmissions(task, round, c.submissions, minSubmissions);
        }
        if (m.voteState != VOTE_NONE) m = _settle(task, c, m, msg.sender);
        m.voteRound = round;
        m.voteAttempt = uint8(attempt);
        m.voteState = VOTE_COMMITTED;
        _members[task][msg.sender] = m;
        _votes[task][msg.sender] = commitment;
        emit Committed(task, round, msg.sender, uint8(attempt), commitment);
    }

    /// @notice Opens the caller's commitment for (`round`, `attempt`) during that attempt's reveal
    /// window. The reveal completing the quorum finalizes the round; later matching reveals (until
    /// the window ends) avoid the slash but earn no fee.
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
        bool late = _revealWindow(task, c, round, attempt);
        Result memory r = Result(modelDigest, modelCodec, rewardsRoot);
        bytes32 opened = keccak256(abi.encode(modelDigest, modelCodec, rewardsRoot, salt, msg.sender));
        if (opened != _votes[task][msg.sender]) revert FedMarketRevealMismatch(task, round, msg.sender);
        _count(task, c, round, attempt, late, r);
    }

    /// @dev Records a valid reveal in its result's tally word; finalizes on the quorum-th one.
    function _count(uint256 task, Clock memory c, uint16 round, uint8 attempt, bool late, Result memory r) private {
        bytes32 result = _resultHash(r.modelDigest, r.modelCodec, r.rewardsRoot);
        _votes[task][msg.sender] = result;
        bytes32 key = _tallyKey(task, round, attempt, result);
        uint256 word = _tally[key];
        uint256 votes = (word & 0xffff) + 1;
        emit Revealed(task, round, msg.sender, attempt, r.modelDigest, r.modelCodec, r.rewardsRoot, uint16(votes));
        if (late) {
            _tally[key] = word + 1;
            _judgeLate(task, round, result);
        } else if (votes < c.quorum) {
            Member storage m = _members[task][msg.sender];
            _tally[key] = (word + 1) | (uint256(m.index1 - 1) << (16 + 24 * (votes - 1)));
            m.voteState = VOTE_REVEALED;
        } else {
            _tally[key] = word + 1;
            _finalize(task, c, attempt, r);
            _payQuorum(task, round, word, votes - 1);
        }
    }

    /// @dev A reveal after finalization: settled now (slash unless it matches the finalized result).
    function _judgeLate(uint256 task, uint16 round, bytes32 result) private {
        RoundRecord storage rec = _rounds[task][round];
        Member memory m = _members[task][msg.sender];
        m.voteState = VOTE_NONE;
        if (result != _resultHash(rec.modelDigest, rec.modelCodec, rec.rewardsRoot)) {
            m = _slash(task, m, msg.sender);
        }
        _members[task][msg.sender] = m;
    }

    /// @dev Credits the committee fee to the `peers` earlier matching revealers recorded in the
    /// tally word and to the caller, and settles their votes.
    function _payQuorum(uint256 task, uint16 round, uint256 word, uint256 peers) private {
        uint96 fee = _config[task].committeeFee;
        for (uint256 i; i < peers; ++i) {
            _credit(task, round, _memberAt[task][(word >> (16 + 24 * i)) & 0xffffff], fee);
        }
        _credit(task, round, msg.sender, fee);
    }

    function _credit(uint256 task, uint16 round, address account, uint96 fee) private {
        Member storage m = _members[task][account];
        m.balance += fee;
        m.voteState = VOTE_NONE;
        emit FeeEarned(task, round, account, fee);
    }

    /// @dev Checks the caller has an open commitment for (round, attempt) and that its reveal window
    /// is open. `late` means the round was already finalized in this attempt.
    function _revealWindow(uint256 task, Clock memory c, uint16 round, uint8 attempt)
        private
        view
        returns (bool late)
    {
        Member memory m = _members[task][msg.sender];
        if (m.index1 == 0) revert FedMarketNotMember(task, msg.sender);
        if (m.voteState != VOTE_COMMITTED || m.voteRound != round || m.voteAttempt != attempt) {
            revert FedMarketNoCommitment(task, round, attempt, msg.sender);
        }
        if (round == c.round) {
            (Phase p, uint256 current,) = _phaseAt(c, block.timestamp);
            if (p != Phase.Reveal || current != attempt) revert FedMarketRevealClosed(task, round, attempt);
            return false;
        }
        // The round was finalized; reveals for its finalizing attempt stay open until its window ends.
        if (round + 1 == c.round && block.timestamp < c.roundStart && _rounds[task][round].attempt == attempt) {
            return true;
        }
        revert FedMarketRevealClosed(task, round, attempt);
    }

    function _finalize(uint256 task, Clock memory c, uint256 attempt, Result memory r) private {
        (,, uint256 attemptStart) = _phaseAt(c, block.timestamp);
        (uint256 budget, bool last) = _allocate(task, c.round, c.quorum);
        uint40 revealEnd = uint40(attemptStart + c.trainDuration + c.commitDuration + c.revealDuration);
        RoundRecord storage rec = _rounds[task][c.round];
        rec.modelDigest = r.modelDigest;
        rec.rewardsRoot = r.rewardsRoot;
        rec.updateCommitment = _updateHead[task];
        rec.modelCodec = r.modelCodec;
        rec.submissions = c.submissions;
        rec.attempt = uint8(attempt);
        rec.votes = c.quorum;
        rec.finalizedAt = uint40(block.timestamp);
        rec.revealEnd = revealEnd;
        rec.budget = uint128(budget);
        _seedBase[task] = keccak256(abi.encode(_config[task].seed0, r.modelDigest, r.rewardsRoot));
        Clock storage clock = _clock[task];
        clock.round = c.round + 1;
        clock.roundStart = revealEnd;
        clock.submissions = 0;
        if (last) clock.status = STATUS_FINISHED;
        _emitFinalized(task, c.round, rec);
    }

    /// @dev Assigns the round's share of the bounty plus the slash pool, minus the quorum's fees.
    function _allocate(uint256 task, uint256 round, uint256 quorum) private returns (uint256 budget, bool last) {
        Config storage cfg = _config[task];
        uint256 rounds = cfg.rounds;
        uint256 share = cfg.bounty / rounds;
        last = round == rounds;
        if (last) share = cfg.bounty - share * (rounds - 1);
        Funds memory f = _funds[task];
        budget = share - uint256(cfg.committeeFee) * quorum + f.slashPool;
        _funds[task] = Funds({unallocated: f.unallocated - uint128(share), slashPool: 0});
    }

    function _emitFinalized(uint256 task, uint16 round, RoundRecord storage rec) private {
        (bytes32 parentDigest, uint64 parentCodec) = _parentModel(task, round);
        emit ModelFinalized(
            task,
            round,
            rec.modelDigest,
            rec.modelCodec,
            parentDigest,
            parentCodec,
            rec.updateCommitment,
            rec.submissions,
            rec.rewardsRoot,
            rec.attempt,
            rec.votes,
            rec.budget
        );
    }

    /// @dev The model round `round` trains on: genesis for round 1, else round - 1's result.
    function _parentModel(uint256 task, uint256 round) internal view returns (bytes32 digest, uint64 codec) {
        if (round == 1) return (_config[task].genesisDigest, _config[task].genesisCodec);
        RoundRecord storage prev = _rounds[task][round - 1];
        return (prev.modelDigest, prev.modelCodec);
    }
}
