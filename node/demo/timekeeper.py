"""Fast-forward for local dev chains: end a phase early once everyone alive has acted.

Phases are windows of chain time, sized for the slowest honest participant on a real
network. On a local anvil that wastes minutes per round, so the demo and the end-to-end
tests run a time keeper beside the nodes: when every running participant has done what
the phase is for (or nothing has happened for ``stall_seconds``), it moves the chain's
clock to the end of the phase with ``evm_increaseTime``. Nodes do not know it exists:
they still read the phase from the chain, and the contract still enforces every window.
It only works where the chain accepts dev RPCs (anvil, py-evm), never on a real network.

In the train window it waits for every running member drawn to train (all of them, or the
round's cohort once drawn).

In the attest window the keeper waits for every running seat holder's availability bitmap
(``ledger.availability``), and ends it once all are in.

In a ``secure`` task the commit phase has two halves: the recovery window
(``ledger.seed_reveals``), in which survivors reveal seeds with dropped members, and the
committee's half. The keeper ends the first half once every running submitter has
revealed (or nobody dropped), and the second as in open mode.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ledger.availability import attestations, not_counted
from ledger.chain.backend import ChainBackend
from ledger.cid import Cid
from ledger.cohort import cohort_members
from ledger.market import FedMarket
from ledger.market_types import Phase, RoundState, TaskParams, result_hash
from ledger.seed_reveals import SeedReveals, recovery_window

__all__ = ["RoundProgress", "TimeKeeper"]


@dataclass(frozen=True)
class RoundProgress:
    """What the chain says about the current round, for the progress view."""

    state: RoundState
    members: int
    commits: int
    reveals: int
    finalized: int
    seed_reveals: int = 0
    attestations: int = 0


class TimeKeeper:
    """Skips idle chain time on a dev chain.

    Args:
        chain: a chain with dev powers (``increase_time``, ``mine``).
        market: the market.
        task: the task to watch.
        live: returns the addresses of the participants whose processes are running.
        stall_seconds: wall seconds without any change before the phase is ended anyway.
        window_seconds: wall seconds a challenge window stays open at most while waiting for
            ``checked`` (nodes recompute the round in it and challenge a wrong result); without
            ``checked``, at least.
        checked: returns, per participant address, the last round its node reports checked
            (``node.runtime.node_home``): the window ends once every running node checked.
        seed_reveals: the SeedReveals contract, for a secure task (None: open task).
        min_survivors: the task's ``noise_shares``: with fewer submitters nobody reveals.
    """

    def __init__(self, chain: ChainBackend, market: FedMarket, task: int, *,
                 live: Callable[[], set[str]], stall_seconds: float = 15.0,
                 window_seconds: float = 1.5,
                 seed_reveals: SeedReveals | None = None, min_survivors: int = 1,
                 checked: Callable[[], dict[str, int]] | None = None) -> None:
        self.chain = chain
        self.market = market
        self.task = task
        self.live = live
        self.seed_reveals = seed_reveals
        self.min_survivors = min_survivors
        self.stall_seconds = stall_seconds
        self.window_seconds = window_seconds
        self.checked = checked
        self._last_signature: tuple | None = None
        self._last_change = time.monotonic()
        self._params_cache: TaskParams | None = None
        self._members_cache: list[str] | None = None
        self._committees: dict[tuple[int, int], set[str]] = {}
        self._revealed_round = 0  # the last finalized round whose every commit was opened

    def progress(self) -> RoundProgress:
        state = self.market.round_state(self.task)
        # Votes of the current round exist only from its commit window on: read them then only
        # (the keeper looks at every block; each event query costs milliseconds of CPU).
        votes = (self._votes(state.round, state.attempt)
                 if state.phase in (Phase.COMMIT, Phase.REVEAL) else (0, 0))
        seeds = attested = 0
        if self.seed_reveals is not None and state.phase == Phase.COMMIT:
            seeds = len(self.seed_reveals.reveals(self.task, state.round, state.attempt))
        if state.phase == Phase.ATTEST:
            attested = len(attestations(self.market, self.task, state.round, state.attempt))
        return RoundProgress(state=state, members=len(self._members(state)),
                             commits=votes[0], reveals=votes[1],
                             finalized=state.round - 1, seed_reveals=seeds,
                             attestations=attested)

    def _in_recovery(self, s: RoundState) -> bool:
        return (self.seed_reveals is not None and s.phase == Phase.COMMIT
                and self.chain.timestamp() < recovery_window(s)[1])

    def _survivors_revealed(self, s: RoundState, live: set[str]) -> bool:
        assert self.seed_reveals is not None
        updates = self.market.updates(self.task, s.round)
        skipped = not_counted(self.market, self.task, s.round, s.attempt, updates, self._quorum())
        # Survivors are the members whose masked update the committee holds: an update it did
        # not attest counts as dropped, like a missing one.
        submitters = {u.participant.lower() for u in updates if u.seq not in skipped}
        if {m.lower() for m in self._members(s)} <= submitters:
            return True  # nobody dropped: nothing to reveal
        if len(submitters) < self.min_survivors:
            return True  # distributed DP: a sum short of its noise shares stays masked
        revealed = {r.member.lower()
                    for r in self.seed_reveals.reveals(self.task, s.round, s.attempt)}
        return submitters & live <= revealed

    def _params(self) -> TaskParams:
        if self._params_cache is None:
            self._params_cache = self.market.task_info(self.task).params
        return self._params_cache

    def _members(self, s: RoundState) -> list[str]:
        """The members in join order (read once joining has closed: the list is final then)."""
        if self._members_cache is not None:
            return self._members_cache
        members = self.market.members(self.task)
        if not (s.phase == Phase.PENDING and s.round == 1):
            self._members_cache = members
        return members

    def _committee(self, s: RoundState) -> set[str]:
        """The seat holders of the attempt (lower-case; fixed once its seed is locked)."""
        key = (s.round, s.attempt)
        if key not in self._committees:
            self._committees[key] = {a.lower() for a in self.market.committee(self.task)}
        return self._committees[key]

    def _quorum(self) -> int:
        return self._params().quorum

    def _trainers(self, s: RoundState) -> set[str] | None:
        """Who trains in the round (lower-case): every member, or the drawn cohort (None: not
        drawn yet)."""
        members = self._members(s)
        k = self._params().cohort_size
        if k == 0:
            return {m.lower() for m in members}
        if s.cohort_seed == bytes(32):
            return None
        return {m.lower() for m in cohort_members(s.cohort_seed, members, k)}

    def _votes(self, round_: int, attempt: int) -> tuple[int, int]:
        contract = self.market.contract
        commits = [e for e in contract.events("Committed", task=self.task, round=round_)
                   if e["args"]["attempt"] == attempt]
        reveals = [e for e in contract.events("Revealed", task=self.task, round=round_)
                   if e["args"]["attempt"] == attempt]
        return len(commits), len(reveals)

    def _everyone_acted(self, p: RoundProgress) -> bool:
        s = p.state
        live = {a.lower() for a in self.live()}
        if s.phase == Phase.PENDING and s.round == 1:
            return p.members >= len(live)
        if s.phase == Phase.TRAIN:
            trainers = self._trainers(s)
            return trainers is not None and s.submissions >= len(trainers & live)
        if s.phase == Phase.ATTEST:
            if s.seed == bytes(32):
                return False  # nobody locked the seed yet: nobody knows the committee
            committee = self._committee(s)
            attested = {a.member.lower()
                        for a in attestations(self.market, self.task, s.round, s.attempt)}
            return committee & live <= attested
        if s.phase == Phase.COMMIT and self._in_recovery(s):
            return self._survivors_revealed(s, live)
        if s.phase == Phase.COMMIT:
            if s.seed == bytes(32):
                return False  # nobody locked the seed yet: nobody knows the committee
            return p.commits >= len(self._committee(s) & live)
        if s.phase in (Phase.PENDING, Phase.FINISHED):
            # Between rounds: late reveals of the previous round are still allowed, and
            # every node gets a few polls to recompute the round and challenge it.
            if self._revealed_round != s.round - 1:  # commits are fixed, reveals only grow
                previous = self.market.finalized_round(self.task, s.round - 1)
                commits, reveals = self._votes(s.round - 1, previous.attempt)
                if reveals < commits:
                    return False
                self._revealed_round = s.round - 1
            if time.monotonic() - self._last_change >= self.window_seconds:
                return True
            if self.checked is None:
                return False
            marks = {a.lower(): r for a, r in self.checked().items()}
            return all(marks.get(a, 0) >= s.round - 1 for a in live)
        if s.phase == Phase.DISPUTED:
            return self._dispute_acted(s.round - 1, live)
        if s.phase == Phase.REVEAL:
            # The quorum's last reveal ends the phase by itself; when every commit is open and
            # still no quorum (a dead member held seats, or every seat: no commit at all),
            # nothing more can come: retry now.
            return p.reveals >= p.commits
        return False

    def _dispute_acted(self, round_: int, live: set[str]) -> bool:
        info = self.market.dispute(self.task, round_)
        contract = self.market.contract
        commits = contract.events("DisputeCommitted", task=self.task, round=round_)
        if self.chain.timestamp() >= info.commit_end:
            reveals = contract.events("DisputeRevealed", task=self.task, round=round_)
            return len(reveals) >= len(commits)
        if info.seed == bytes(32):
            return False
        entry = self.market.finalized_round(self.task, round_)
        excluded = {e["args"]["member"].lower()
                    for e in contract.events("Revealed", task=self.task, round=round_)
                    if e["args"]["attempt"] == entry.attempt
                    and result_hash(Cid(int(e["args"]["modelCodec"]), bytes(e["args"]["modelDigest"])),
                                    bytes(e["args"]["rewardsRoot"])) == info.original}
        seated = {a.lower() for a in self.market.dispute_committee(self.task, round_)}
        return len(commits) >= len((seated & live) - excluded)

    def _phase_end(self, s: RoundState) -> int:
        if s.phase == Phase.TRAIN:
            return s.train_end
        if s.phase == Phase.ATTEST:
            return s.attest_end
        if s.phase == Phase.COMMIT:
            return recovery_window(s)[1] if self._in_recovery(s) else s.commit_end
        if s.phase == Phase.REVEAL:
            return s.reveal_end
        if s.phase == Phase.DISPUTED:
            info = self.market.dispute(self.task, s.round - 1)
            return info.commit_end if self.chain.timestamp() < info.commit_end else info.reveal_end
        return s.attempt_start  # PENDING (next round's start) and FINISHED (payout start)

    def tick(self) -> tuple[RoundProgress, str | None]:
        """Look once; fast-forward if the phase is done. Returns the progress seen and
        a description of the jump, if any."""
        p = self.progress()
        s = p.state
        signature = (s.round, s.attempt, s.phase, s.submissions, p.members, p.commits,
                     p.reveals, p.finalized, p.seed_reveals, p.attestations)
        now = time.monotonic()
        if signature != self._last_signature:
            self._last_signature, self._last_change = signature, now
        if s.phase in (Phase.CLOSED, Phase.CANCELLED, Phase.NONE):
            return p, None
        # Never cut the join window short on a stall: nodes may still be starting up.
        joining = s.phase == Phase.PENDING and s.round == 1
        stalled = not joining and now - self._last_change > self.stall_seconds
        if not (self._everyone_acted(p) or stalled):
            return p, None
        target = self._phase_end(s)
        chain_now = self.chain.timestamp()
        if target <= chain_now:
            return p, None
        self.chain.increase_time(target - chain_now)  # mines the block at the phase's end
        self._last_change = now
        return p, f"fast-forward {target - chain_now} s to the end of {s.phase.name}" + (
            " (stalled)" if stalled else "")
