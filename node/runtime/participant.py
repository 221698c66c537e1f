"""The participant: watch the chain, act on the task's current phase.

A node keeps no state that matters beyond a cache. Every decision is read from the chain
on each poll (``roundState`` and the node's own ``member`` record), so a node killed at
any moment and restarted picks up where the chain says it is:

* it submits only if its ``lastSubmittedRound`` is behind the current round, and its update
  is a deterministic function of parent, data and task seed (a resubmission is the same CID);
* its commit salt derives from its key, task, round and attempt (reopenable after a restart);
* claims (``node.runtime.payouts``) are checked against the contract's claimed bitmap, and
  made only once the round's challenge window closed (or its dispute was resolved); the stake
  is withdrawn only once every round's claim is decided.

Protocol v2 duties (``node.runtime.disputes``): whoever sees the commit window open first
locks the attempt's seed; a node whose own recomputation of a finalized round differs from the
chain's result challenges it (bond) while the window is open; dispute seat holders commit and
reveal their recomputation; anyone resolves an ended dispute; with a committee fee, a node
settles its own vote to be credited.

Privacy (``private_update``, ``secure_participant``): ``dp`` noises the update with a
key-derived secret; ``secure`` masks it, survivors reveal seeds with dropped members. With a
cohort only drawn members train (``sampling``); seed calls go in turn (``seed_race``). With
nothing else to do, a node trains the next round on its own result (``train_ahead``). A
reverted transaction is logged with its decoded custom error and the node carries on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.availability import not_counted
from ledger.chain.errors import ChainError, ContractCustomError
from ledger.cid import Cid
from ledger.errors import LedgerError
from ledger.market import FedMarket
from ledger.market_types import MemberInfo, NodeState, Phase, RoundState, VoteState
from ledger.seed_reveals import SeedReveals
from ledger.store import ContentStore
from ledger.task_view import TaskView, load_task
from node.data.datasets import ClientData
from node.errors import NodeError
from node.privacy.keys import agreement_public_key
from node.runtime.committee import RoundOutcome, compute_round
from node.runtime.disputes import DisputeDuties
from node.runtime.holdings import Holdings
from node.runtime.payouts import CLAIM_EVERY, Payouts
from node.runtime.private_update import participant_private_update
from node.runtime.sampling import Sampling
from node.runtime.secure_participant import SecureSteps
from node.runtime.seed_race import SeedRace
from node.runtime.train_ahead import TrainAhead

__all__ = ["NodeSummary", "Participant"]

log = logging.getLogger("fedledger.node")

_TERMINAL = (Phase.FINISHED, Phase.CLOSED, Phase.CANCELLED)


@dataclass
class NodeSummary:
    """What a node did (for logs, the demo's progress view and tests)."""

    submitted: list[int] = field(default_factory=list)
    committed: list[tuple[int, int]] = field(default_factory=list)
    revealed: list[tuple[int, int]] = field(default_factory=list)
    claimed: dict[int, int] = field(default_factory=dict)
    withdrawn: int = 0
    errors: list[str] = field(default_factory=list)
    epsilons: dict[int, float] = field(default_factory=dict)
    seed_reveals: list[tuple[int, int]] = field(default_factory=list)
    sat_out: list[int] = field(default_factory=list)  # rounds whose cohort did not draw it


class Participant:
    """One participant of one task.

    Args:
        market: the market, connected with a web3 that can send transactions.
        store: where models and updates live.
        account: the node's signing key.
        task: the task id.
        data: this participant's own data (never leaves the process).
        client_id: the participant's stable name (seeds its training).
        update_hook: replaces the uploaded update (tests and attack demos only).
        seed_reveals: the deployment's SeedReveals contract (required for secure tasks).
        challenges: whether the node challenges a finalized result its own recomputation
            disagrees with (off only to stage a lie that stands, for audit tests).
        keep_rounds: unpin the artifacts of rounds older than the last N finalized ones
            (None: keep everything).
        claim_every: claim rewards in batches of this many rounds (``node.runtime.payouts``).
    """

    def __init__(self, market: FedMarket, store: ContentStore, account: LocalAccount, *,
                 task: int, data: ClientData, client_id: str,
                 update_hook: Callable[[bytes, int], tuple[bytes, int]] | None = None,
                 seed_reveals: SeedReveals | None = None, challenges: bool = True,
                 keep_rounds: int | None = None, claim_every: int = CLAIM_EVERY) -> None:
        self.market = market
        self.store = store
        self.account = account
        self.task = task
        self.data = data
        self.client_id = client_id
        self.update_hook = update_hook
        self.seed_reveals = seed_reveals
        self.challenges = challenges
        self.summary = NodeSummary()
        self._view: TaskView | None = None
        self._secure: SecureSteps | None = None
        self._outcomes: dict[tuple[int, int], RoundOutcome] = {}
        self._content: dict[Cid, bytes] = {}
        self._committee: dict[tuple[int, int], bool] = {}
        self._last_phase: Phase | None = None
        self.read: NodeState | None = None  # this step's chain read (``step`` sets it first)
        self._withheld: set[int] = set()
        self.disputes = DisputeDuties(self)
        self.payouts = Payouts(self, claim_every=claim_every)
        self.holdings = Holdings(self, keep_rounds=keep_rounds)
        self.sampling = Sampling(self)
        self.race = SeedRace()
        self.ahead = TrainAhead(self)

    # ------------------------------------------------------------------ helpers

    @property
    def view(self) -> TaskView:
        if self._view is None:
            self._view = load_task(self.market, self.store, self.task)
        return self._view

    @property
    def secure(self) -> SecureSteps | None:
        """The secure-mode steps (None in an open task).

        Raises:
            NodeError: a secure task but no SeedReveals contract to reveal seeds on.
        """
        if self.view.manifest.privacy != "secure":
            return None
        if self._secure is None:
            if self.seed_reveals is None:
                raise NodeError(f"task {self.task} is secure: the node needs the deployment's "
                                "SeedReveals contract")
            self._secure = SecureSteps(self.market, self.seed_reveals, self.store, self.account,
                                       task=self.task, manifest=self.view.manifest,
                                       fetch=self.fetch, quorum=self.view.params.quorum)
        return self._secure

    def fetch(self, cid: Cid) -> bytes:
        """A model, verified, cached, and pinned on this node's store (it trains on it, or
        aggregates onto it: it keeps what its own work derives from)."""
        if cid not in self._content:
            self._content[cid] = self.store.get(cid)
            self.store.pin(cid)
        return self._content[cid]

    def _salt(self, round_: int, attempt: int) -> bytes:
        # Secret (derived from the key) and reproducible after a restart.
        return keccak(b"fedledger/commit-salt" + bytes(self.account.key)
                      + self.task.to_bytes(32, "big") + round_.to_bytes(2, "big")
                      + attempt.to_bytes(1, "big"))

    def outcome(self, round_: int, parent: Cid, attempt: int = 0) -> RoundOutcome:
        """This node's own computation of (``round_``, ``attempt``) (cached).

        Each attempt has its own committee, so its own availability records (the updates
        counted, ``node.runtime.holdings.not_counted``) and, in a secure task, its own seed
        reveals. Call it once the attempt's attest window is over.
        """
        secure = self.secure
        key = (round_, attempt)
        if key not in self._outcomes:
            updates = self.market.updates(self.task, round_)
            skipped = not_counted(self.market, self.task, round_, attempt, updates,
                                  self.view.params.quorum)
            # Models are cached (each is the next round's parent); updates are not: the
            # outcome is, and a long task must not keep every update it ever saw.
            self._outcomes[key] = compute_round(
                self.view.manifest, self.view.params, round_, self.fetch(parent), updates,
                self.store.get, secure=secure.inputs(round_, attempt) if secure else None,
                not_counted=skipped)
        return self._outcomes[key]

    # ------------------------------------------------------------------ actions

    def _join(self) -> str:
        self.sampling.check_supported()
        self.market.join(self.task, agreement_public_key(self.account), sender=self.account)
        return f"joined with stake {self.view.params.min_stake}"

    def _submit(self, state: RoundState) -> str:
        assert state.parent is not None
        secure = self.secure
        if secure is not None and secure.seeds_exposed(state.round):
            self._withheld.add(state.round)
            return (f"not submitting in round {state.round}: seeds with this node may have "
                    f"been revealed in an earlier attempt")
        manifest = self.view.manifest
        if secure is not None and len(secure.mask_set()) < manifest.noise_shares:
            # Anyone could unmask a sum of every member's update: it must hold all shares.
            self._withheld.add(state.round)
            return (f"not submitting in round {state.round}: the task has "
                    f"{len(secure.mask_set())} members, its distributed DP needs "
                    f"{manifest.noise_shares} noise shares in a sum")
        report = None
        if manifest.dp is None and secure is None:
            payload, num_samples = self.ahead.update(state.round, state.parent,
                                                     self.fetch(state.parent))
        else:
            payload, num_samples, report = participant_private_update(self, state)
        if self.update_hook is not None:
            payload, num_samples = self.update_hook(payload, num_samples)
        cid = self.store.put(payload)
        self.market.submit_update(self.task, state.round, cid, num_samples, sender=self.account)
        self.summary.submitted.append(state.round)
        dp = ""
        if report is not None:
            self.summary.epsilons[state.round] = report.epsilon
            dp = (f"; DP epsilon {report.epsilon:.4g} at delta {report.delta:g} after "
                  f"{report.rounds} round(s)")
        ahead = ", trained ahead" if state.round in self.ahead.used else ""
        return f"submitted round {state.round} update {cid} ({num_samples} samples{dp}{ahead})"

    def _commit(self, state: RoundState) -> str:
        assert state.parent is not None
        if state.submissions < self.view.params.min_submissions:
            return "waiting for submissions"
        result = self.outcome(state.round, state.parent, state.attempt)
        # Publish before voting: a quorum on a CID nobody can fetch would stall round r+1.
        self.store.put(result.model_bytes)
        try:
            self.market.commit(self.task, state.round, state.attempt, result.model,
                               result.rewards_root, self._salt(state.round, state.attempt),
                               sender=self.account)
        except ContractCustomError as err:
            if err.error_name != "FedMarketBalanceTooLow":
                raise
            # Settling our previous vote (inside commit) slashed us dry: we cannot vote again.
            self._committee[state.round, state.attempt] = False
            return f"cannot commit in round {state.round}.{state.attempt}: {err}"
        self.summary.committed.append((state.round, state.attempt))
        excluded = "; ".join(f"{who}: {why}" for who, why in result.excluded)
        return (f"committed round {state.round}.{state.attempt} model {result.model}"
                + (f" (excluded {excluded})" if excluded else ""))

    def _reveal(self, round_: int, attempt: int, parent: Cid) -> str:
        result = self.outcome(round_, parent, attempt)
        self.market.reveal(self.task, round_, attempt, result.model, result.rewards_root,
                           self._salt(round_, attempt), sender=self.account)
        self.summary.revealed.append((round_, attempt))
        return f"revealed round {round_}.{attempt}"

    # ------------------------------------------------------------------ the loop

    def step(self) -> str | None:
        """Read the chain once and take at most one action; None when there is nothing to do.

        Raises:
            ChainError: a transaction reverted (the caller logs it and polls again).
            LedgerError: content or RPC failure.
        """
        self.read = self.market.node_state(self.task, self.account.address)  # the one read
        state, me = self.read.state, self.read.member
        self._last_phase = state.phase
        if not me.is_member:
            if state.phase == Phase.PENDING and state.round == 1:
                return self._join()
            return None
        committed_here = (me.vote_state == VoteState.COMMITTED and me.vote_round == state.round
                          and me.vote_attempt == state.attempt)
        # A late reveal: our round finalized while we were away, its reveal window still open.
        if (me.vote_state == VoteState.COMMITTED and me.vote_round == state.round - 1
                and state.phase in (Phase.PENDING, Phase.FINISHED)):
            entry = self.market.finalized_round(self.task, me.vote_round)
            if entry.attempt == me.vote_attempt:
                return self._reveal(me.vote_round, me.vote_attempt, entry.parent)
        if (state.phase == Phase.TRAIN and me.last_submitted_round != state.round
                and state.round not in self._withheld):
            drew = self.sampling.draw(state, self.race.my_turn(("cohort", state.round), me.index))
            if drew is not None:
                return drew or None  # "": a peer earlier in line draws it
            if self.sampling.trains(state, self.read.trains):
                return self._submit(state)
        secure = self.secure
        if secure is not None and state.phase == Phase.COMMIT \
                and me.last_submitted_round == state.round:
            revealed = secure.reveal_if_needed(state)
            if revealed is not None:
                self.summary.seed_reveals.append((state.round, state.attempt))
                return revealed
        # Any record of (round, attempt), settled or not, means the contract refuses a commit.
        voted_here = me.vote_round == state.round and me.vote_attempt == state.attempt
        if state.phase in (Phase.ATTEST, Phase.COMMIT) and not voted_here \
                and state.seed == bytes(32):
            if not self.race.my_turn(("seed", state.round, state.attempt), me.index):
                return None  # a peer earlier in line locks it (node.runtime.seed_race)
            self.market.lock_seed(self.task, sender=self.account)
            return f"locked the seed of round {state.round}.{state.attempt}"
        if state.phase == Phase.ATTEST:
            return self.holdings.step(state)
        if (state.phase == Phase.COMMIT and not voted_here and self._solvent(me)
                and self.in_committee(state.round, state.attempt)):
            if secure is not None and state.submissions > 0 \
                    and not secure.recovery(state).complete:
                return None  # survivors are still revealing seeds
            return self._commit(state)
        if state.phase == Phase.REVEAL and committed_here:
            assert state.parent is not None
            return self._reveal(state.round, state.attempt, state.parent)
        duty = self.disputes.step(state, me)
        if duty is not None:
            return duty
        finalized = state.round - 1  # rounds finalize in order: the counter is the count
        claimed = self.payouts.claim(finalized)
        if claimed is not None:
            return claimed
        released = self.holdings.release(finalized)
        if released is not None:
            return released
        ahead = self.ahead.step(state, me.last_submitted_round)
        if ahead is not None:
            return ahead
        if state.phase in (Phase.FINISHED, Phase.CLOSED) and self.market.ended(self.task) \
                and not me.withdrawn and me.balance > 0 and not self.payouts.drained \
                and self.payouts.decided(finalized):
            return self.payouts.withdraw()
        return None

    def _solvent(self, me: MemberInfo) -> bool:
        """Whether the balance still covers a slash (the contract refuses votes otherwise)."""
        return me.balance >= me.stake * self.view.params.slash_bps // 10_000

    def in_committee(self, round_: int, attempt: int) -> bool:
        # Fixed once the attempt's seed is locked (callers check): ask the chain once.
        key = (round_, attempt)
        if key not in self._committee:
            self._committee[key] = self.market.seats_of(self.task, self.account.address) > 0
        return self._committee[key]

    def done(self) -> bool:
        """The task is over and this node has nothing left to claim or withdraw."""
        if self._last_phase is not None and self._last_phase not in _TERMINAL:
            return False  # the last poll saw a live task: no need to ask again yet
        state = self.market.round_state(self.task)
        if state.phase not in _TERMINAL:
            return False
        if state.phase == Phase.CANCELLED:
            return True
        me = self.market.member(self.task, self.account.address)
        if not me.is_member:
            return self.market.ended(self.task)
        return self.market.ended(self.task) and (me.withdrawn or me.balance == 0 or
                                                 self.payouts.drained) \
            and self.payouts.decided(state.round - 1)

    def run(self, *, poll_seconds: float = 0.3, timeout: float | None = None,
            on_event: Callable[[str], None] | None = None,
            wake: Callable[[float], object] | None = None) -> NodeSummary:
        """Read and act until the task is over (or ``timeout`` seconds pass).

        Between reads with nothing to do the node sleeps ``poll_seconds``, or, with ``wake``
        (e.g. ``ledger.chain.new_heads.NewHeads.wait``), until the next block, at most
        ``poll_seconds``: it acts on a block the moment it lands.
        """
        idle = wake or time.sleep
        emit = on_event or log.info
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done():
            if deadline is not None and time.monotonic() > deadline:
                emit("timeout: stopping")
                break
            try:
                action = self.step()
            except ChainError as err:
                self.summary.errors.append(str(err))
                emit(f"transaction failed, carrying on: {err}")
                action = None
            except LedgerError as err:
                self.summary.errors.append(str(err))
                emit(f"ledger error, carrying on: {err}")
                action = None
            if action:
                emit(action)
            else:
                idle(poll_seconds)
        return self.summary
