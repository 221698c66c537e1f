"""Posting a task: manifest and genesis model to the content store, bounty to the chain."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from ledger.cid import Cid
from ledger.manifest import TaskManifest
from ledger.market import FedMarket
from ledger.market_types import ETH, TaskParams
from ledger.store import ContentStore
from node.errors import NodeError
from node.learning.task import genesis_model_bytes

__all__ = ["PostedTask", "TaskTerms", "post_task"]


@dataclass(frozen=True, kw_only=True)
class TaskTerms:
    """The marketplace terms a requester sets next to the manifest (all on chain).

    Durations are in seconds of chain time; ``join_duration`` is the window before round 1,
    ``challenge_duration`` the window after each round's reveal in which its result can be
    challenged (the next round waits for it), ``claim_duration`` how long rewards stay
    claimable once the task ended. ``challenge_bond`` None: the manifest's stake;
    ``dispute_size`` None: 2 x committee + 1 seats (at most 63). ``cohort_size`` K > 0: only K
    members, drawn on chain each round, train in it (client sampling; 0: every member).
    """

    bounty: int
    max_participants: int = 64
    min_submissions: int = 1
    join_duration: int = 60
    challenge_duration: int = 4
    claim_duration: int = 86_400
    slash_bps: int = 5_000
    committee_fee: int = 0
    challenge_bond: int | None = None
    dispute_size: int | None = None
    max_retries: int = 2
    token: str = ETH
    cohort_size: int = 0


@dataclass(frozen=True)
class PostedTask:
    task: int
    manifest: Cid
    genesis: Cid


def post_task(market: FedMarket, store: ContentStore, manifest: TaskManifest,
              terms: TaskTerms, *, sender: LocalAccount) -> PostedTask:
    """Put the manifest and the seeded genesis model on ``store``, then ``createTask``.

    Committee size, quorum, phase durations, stake and rounds come from the manifest, so
    what a node reads from the manifest and what the contract enforces cannot disagree.

    Raises:
        NodeError: a secure task with a cohort (pairwise masks need every member's update).
        ContentError: the store refused the content.
        ContractCustomError: the contract rejected the parameters (e.g. FedMarketBadQuorum).
    """
    if terms.cohort_size and manifest.privacy == "secure":
        raise NodeError("secure aggregation over a sampled cohort is not supported: "
                        "post a secure task without a cohort")
    manifest_cid = store.put(manifest.to_json_bytes())
    genesis_cid = store.put(genesis_model_bytes(manifest))
    store.pin(manifest_cid)
    store.pin(genesis_cid)
    durations = manifest.phase_durations
    params = TaskParams(
        manifest=manifest_cid, genesis=genesis_cid, bounty=terms.bounty, rounds=manifest.rounds,
        max_participants=terms.max_participants, min_submissions=terms.min_submissions,
        committee_size=manifest.committee_size, quorum=manifest.quorum,
        dispute_size=terms.dispute_size or min(2 * manifest.committee_size + 1, 63),
        join_duration=terms.join_duration, train_duration=durations.train,
        commit_duration=durations.commit, reveal_duration=durations.reveal,
        challenge_duration=terms.challenge_duration, claim_duration=terms.claim_duration,
        min_stake=manifest.stake, slash_bps=terms.slash_bps, committee_fee=terms.committee_fee,
        challenge_bond=manifest.stake if terms.challenge_bond is None else terms.challenge_bond,
        max_retries=terms.max_retries, token=terms.token, cohort_size=terms.cohort_size,
    )
    task = market.create_task(params, sender=sender)
    return PostedTask(task=task, manifest=manifest_cid, genesis=genesis_cid)
