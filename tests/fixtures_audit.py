"""A finished demo work directory for the audit tests, built once per test session.

``audit_workdir(tmp_path_factory)`` runs two small shoppers tasks (logreg, 2 rounds, 3
participants each) on one anvil chain with a ``LocalStore``, time fast-forwarded, and
leaves the layout ``fedledger demo`` leaves (``deployment.json``, ``store/``,
``chain-state.json``):

* task 1 (``HONEST_TASK``): everyone honest;
* task 2 (``LYING_TASK``): two of the three members (a quorum) aggregate every round with
  the last update left out, and the honest third never challenges, so the chain finalizes
  a wrong model: every on-chain check passes, only a replay catches it. Each round's seed is
  locked in a block whose draw seats the liars' quorum and the honest member
  (``_seat_the_lie``), so the scenario never depends on a draw's luck. (With a challenge,
  the lie is overturned on chain: ``tests/e2e`` and ``tests/contracts`` show that.)

Tests copy what they mutate (``workdir_copy``), so the built directory stays pristine.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from ledger.chain.anvil import AnvilChain
from ledger.chain.contract import Contract
from ledger.cid import Cid
from ledger.deployment import Deployment, deploy_market
from ledger.local_store import LocalStore
from ledger.market import FedMarket
from ledger.market_types import Phase
from node.requester.post import TaskTerms, post_task
from node.requester.presets import preset_manifest
from node.runtime.committee import RoundOutcome, compute_round
from node.runtime.participant import Participant
from node.sim.setup import SimulationSetup, build_clients
from tests.fixtures_chain import GENESIS_TIMESTAMP

HONEST_TASK = 1
LYING_TASK = 2
PARTICIPANTS = 3
ROUNDS = 2

_BUILT: dict[str, AuditWorkdir] = {}


class OmittingParticipant(Participant):
    """A committee member that aggregates with the round's last update left out."""

    def outcome(self, round_: int, parent: Cid, attempt: int = 0) -> RoundOutcome:
        if (round_, 0) not in self._outcomes:
            updates = self.market.updates(self.task, round_)[:-1]
            self._outcomes[round_, 0] = compute_round(
                self.view.manifest, self.view.params, round_, self.fetch(parent), updates,
                self.fetch)
        return self._outcomes[round_, 0]


def _next_deadline(market: FedMarket, tasks: list[int], now: int) -> int | None:
    targets = []
    for task in tasks:
        s = market.round_state(task)
        target = {Phase.PENDING: s.attempt_start, Phase.TRAIN: s.train_end,
                  Phase.ATTEST: s.attest_end, Phase.COMMIT: s.commit_end, Phase.REVEAL: s.reveal_end,
                  Phase.FINISHED: s.attempt_start}.get(s.phase)
        if s.phase == Phase.DISPUTED:
            info = market.dispute(task, s.round - 1)
            target = info.commit_end if now < info.commit_end else info.reveal_end
        if target is not None and target > now:
            targets.append(target)
    return min(targets) if targets else None


def _seat_the_lie(chain: AnvilChain, market: FedMarket, liars: list[str], honest: str) -> None:
    """In the lying task's attest window, lock the seed (before any node does) in the first block
    whose draw gives the liars a quorum and the honest member a seat: the scenario then holds by
    construction, whatever block the nodes' own lock would have landed in."""
    s = market.round_state(LYING_TASK)
    if s.phase != Phase.ATTEST or s.seed != bytes(32):
        return
    quorum = market.task_info(LYING_TASK).params.quorum
    requester = chain.accounts[0]
    for _ in range(min(32, s.attest_end - chain.timestamp() - 4)):
        snapshot = chain.snapshot()
        market.lock_seed(LYING_TASK, sender=requester)
        seats = {a: market.seats_of(LYING_TASK, a) for a in [*liars, honest]}
        if sum(seats[a] for a in liars) >= quorum and 0 < seats[honest] < quorum:
            return
        chain.revert(snapshot)
        chain.mine()
    raise AssertionError("no block in the attest window seats the lying quorum")


def _drive(chain: AnvilChain, market: FedMarket, nodes: list[Participant], tasks: list[int],
           liars: list[str], honest: str) -> None:
    """Step every node until all are done, jumping chain time whenever nobody can act."""
    for _ in range(400):
        _seat_the_lie(chain, market, liars, honest)
        acted = False
        for node in nodes:
            try:
                acted = bool(node.step()) or acted
            except Exception:  # noqa: BLE001 - a revert (phase moved on) is retried next poll
                acted = True
        if all(n.done() for n in nodes):
            return
        if not acted:
            now = chain.timestamp()
            target = _next_deadline(market, tasks, now)
            chain.increase_time(max(1, (target or now + 1) - now))
            chain.mine()
    raise AssertionError("the audit fixture tasks did not finish")


@dataclass(frozen=True)
class AuditWorkdir:
    path: Path
    honest_models: tuple[str, ...]
    lying_models: tuple[str, ...]

    @property
    def deployment(self) -> Path:
        return self.path / "deployment.json"

    @property
    def store(self) -> Path:
        return self.path / "store"

    @property
    def state(self) -> Path:
        return self.path / "chain-state.json"


def _build(root: Path) -> AuditWorkdir:
    root.mkdir(parents=True, exist_ok=True)
    manifest = preset_manifest("shoppers", rounds=ROUNDS)
    clients = build_clients(manifest, SimulationSetup(partition="natural", column="Region"))
    store = LocalStore(root / "store")
    # Pinned time: the committees (anvil's prevrandao follows block timestamps) and so the
    # lying quorum are the same in every run.
    with AnvilChain(state_file=root / "chain-state.json", genesis_timestamp=GENESIS_TIMESTAMP) as chain:
        chain.pin_block_interval(1)
        deployment, market = deploy_market(chain.w3, sender=chain.accounts[0],
                                           rpc_url=chain.rpc_url)
        deployment.save(root / "deployment.json")
        terms = TaskTerms(bounty=10**18, min_submissions=PARTICIPANTS)
        honest = post_task(market, store, manifest, terms, sender=chain.accounts[0])
        lying = post_task(market, store, manifest, terms, sender=chain.accounts[0])
        assert (honest.task, lying.task) == (HONEST_TASK, LYING_TASK)
        nodes: list[Participant] = []
        for i, client in enumerate(clients[:PARTICIPANTS]):
            nodes.append(Participant(market, store, chain.accounts[1 + i], task=honest.task,
                                     data=client, client_id=client.client_id))
            kind = OmittingParticipant if i < 2 else Participant
            nodes.append(kind(market, store, chain.accounts[1 + PARTICIPANTS + i],
                              task=lying.task, data=client, client_id=client.client_id,
                              challenges=False))
        lying_members = [chain.accounts[1 + PARTICIPANTS + i].address for i in range(PARTICIPANTS)]
        _drive(chain, market, nodes, [honest.task, lying.task], liars=lying_members[:2],
               honest=lying_members[2])
        honest_models = tuple(str(e.model) for e in market.lineage(honest.task))
        lying_models = tuple(str(e.model) for e in market.lineage(lying.task))
    return AuditWorkdir(root, honest_models, lying_models)


def audit_workdir(tmp_path_factory: pytest.TempPathFactory) -> AuditWorkdir:
    """The finished work directory (built on first use in this session, ~30 s)."""
    if "workdir" not in _BUILT:
        _BUILT["workdir"] = _build(tmp_path_factory.mktemp("audit-workdir"))
    return _BUILT["workdir"]


def workdir_copy(source: AuditWorkdir, destination: Path) -> AuditWorkdir:
    """A private copy a test may tamper with."""
    shutil.copytree(source.path, destination)
    return replace(source, path=destination)


@contextlib.contextmanager
def opened_chain(workdir: AuditWorkdir, scratch: Path) -> Iterator[tuple[AnvilChain, FedMarket, Deployment]]:
    """Anvil on a copy of the work directory's saved chain, and the market on it."""
    scratch.mkdir(parents=True, exist_ok=True)
    state = scratch / "chain-state.json"
    shutil.copyfile(workdir.state, state)
    deployment = Deployment.load(workdir.deployment)
    with AnvilChain(state_file=state) as chain:
        deployment.check_chain(chain.w3)
        yield chain, FedMarket.at(chain.w3, deployment.market), deployment


class LyingContract:
    """A market contract seen through a lying RPC: ``edit_events(name, events)`` and
    ``edit_call(fn, args, result)`` may drop or alter what the real contract answers."""

    def __init__(self, inner: Contract, *,
                 edit_events: Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]]
                 | None = None,
                 edit_call: Callable[[str, tuple[Any, ...], Any], Any] | None = None) -> None:
        self._inner = inner
        self.address = inner.address
        self.w3 = inner.w3
        self._edit_events = edit_events
        self._edit_call = edit_call

    def events(self, name: str, from_block: Any = 0, to_block: Any = "latest",
               **filters: Any) -> list[dict[str, Any]]:
        events = self._inner.events(name, from_block, to_block, **filters)
        return self._edit_events(name, events) if self._edit_events else events

    def call(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        result = self._inner.call(fn, *args, **kwargs)
        return self._edit_call(fn, args, result) if self._edit_call else result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def with_args(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of a decoded event with some arguments replaced."""
    return {**event, "args": {**event["args"], **changes}}
