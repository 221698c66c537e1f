"""The auditor: walk a model's lineage back to genesis and check every link (no torch).

    report = audit_model(market, store, Cid.parse("bafk..."), from_block=deployment.block)
    report = audit_task(market, store, task_id)
    if not report.ok:
        for check in report.failures:
            print(check.where, check.name, check.detail)

What is checked (each a named ``Check`` with its round):

* task: ``TaskCreated`` agrees with ``taskInfo``; the manifest and the genesis model are
  fetched and re-hashed; the manifest parses and its terms (rounds, committee, quorum,
  stake, phase durations) are the ones the contract enforces; finalized rounds are 1..n.
* each round: view and event agree; its parent is the previous round's model (genesis for
  round 1); folding its ``UpdateSubmitted`` events in order gives the on-chain update
  commitment and submission count; at least a quorum of committee members revealed exactly
  the finalized (model, rewards root) in the finalizing attempt; claims stay within the
  budget and match ``roundPaid``; every update and the model are fetched and re-hashed; in a
  task with a cohort, every update came from the round's drawn cohort (``ledger.cohort``).

Recomputing each aggregate bit for bit needs torch and lives in ``node.audit.replay``. The trust
root is the RPC endpoint: a node that lies consistently in views and events cannot be caught
from one endpoint, but one that omits or alters an event breaks a commitment or a link.
"""

from __future__ import annotations

from collections import Counter

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from ledger.audit_report import ArtifactCache, AuditReport
from ledger.availability import available
from ledger.cid import Cid
from ledger.content_errors import ContentError
from ledger.lineage import locate_model, read_lineage
from ledger.lineage_types import ChainCid, RoundLineage, TaskLineage
from ledger.manifest import ManifestError, TaskManifest
from ledger.market import FedMarket
from ledger.market_types import fold_updates
from ledger.store import ContentStore

__all__ = ["ArtifactCache", "AuditReport", "audit_lineage", "audit_model", "audit_task"]


def _fetch(report: AuditReport, store: ContentStore, cid: ChainCid, *, name: str, where: str,
           round_: int | None) -> bytes | None:
    """Fetch and re-hash one artifact, recording the check; the bytes on success."""
    real = cid.cid
    if real is None:
        report.add(name, False, where, f"{cid} is not a supported CID", round_)
        return None
    try:
        data = store.get(real)
    except ContentError as err:
        report.add(name, False, where, f"{real}: {type(err).__name__}: {err}", round_)
        return None
    report.add(name, True, where, f"{real} fetched and re-hashed ({len(data)} bytes)", round_)
    return data


def _check_task(report: AuditReport, store: ContentStore) -> None:
    lin = report.lineage
    where = f"task {lin.task}"
    report.add("task.views-vs-events", not lin.disagreements, where,
               "; ".join(lin.disagreements) or "TaskCreated agrees with taskInfo")
    raw = _fetch(report, store, lin.manifest, name="artifact.manifest",
                 where=f"{where} manifest", round_=None)
    if raw is not None:
        try:
            report.manifest = TaskManifest.from_json_bytes(raw)
        except ManifestError as err:
            report.add("task.manifest-terms", False, f"{where} manifest", f"invalid manifest: {err}")
        else:
            _check_terms(report)
    _fetch(report, store, lin.genesis, name="artifact.genesis", where=f"{where} genesis", round_=0)
    numbers = [r.round for r in lin.rounds]
    expected = list(range(1, report.upto_round + 1))
    report.add("task.rounds", numbers == expected and report.upto_round <= lin.params.rounds,
               where, f"finalized rounds {numbers}, expected {expected} "
                      f"(task has {lin.params.rounds} rounds)")


def _check_terms(report: AuditReport) -> None:
    m, p = report.manifest, report.lineage.params
    assert m is not None
    pairs = [("rounds", m.rounds, p.rounds), ("committee_size", m.committee_size, p.committee_size),
             ("quorum", m.quorum, p.quorum), ("stake", m.stake, p.min_stake),
             ("train_duration", m.phase_durations.train, p.train_duration),
             ("commit_duration", m.phase_durations.commit, p.commit_duration),
             ("reveal_duration", m.phase_durations.reveal, p.reveal_duration)]
    bad = [f"{name}: manifest {a}, chain {b}" for name, a, b in pairs if a != b]
    report.add("task.manifest-terms", not bad, f"task {report.lineage.task} manifest",
               "; ".join(bad) or "manifest terms match the on-chain parameters")


def _check_parent(report: AuditReport, r: RoundLineage, previous: ChainCid, where: str) -> None:
    sources = [(name, rec) for name, rec in (("view", r.view), ("event", r.event)) if rec]
    bad = [f"{name} says parent {rec.parent}" for name, rec in sources if rec.parent != previous]
    what = "genesis" if r.round == 1 else f"round {r.round - 1}'s model"
    report.add("round.parent-link", not bad, where,
               f"expected {what} {previous}; " + "; ".join(bad) if bad
               else f"parent {previous} is {what}", r.round)


def _running_heads(r: RoundLineage) -> list[bytes]:
    """The hash chain head after each update, as the contract computes it."""
    head, heads = bytes(32), []
    for u in r.updates:
        values = [head, to_checksum_address(u.participant), u.digest, u.codec, u.num_samples]
        head = keccak(encode(["bytes32", "address", "bytes32", "uint64", "uint64"], values))
        heads.append(head)
    return heads


def _check_updates(report: AuditReport, r: RoundLineage, where: str) -> None:
    rec, problems = r.record, []
    for i, (u, head) in enumerate(zip(r.updates, _running_heads(r))):
        if u.seq != i:
            problems.append(f"update #{i} by {u.participant} has seq {u.seq}")
        if u.commitment != head:
            problems.append(f"update #{i} by {u.participant}: event commitment "
                            f"0x{u.commitment.hex()} != folded 0x{head.hex()}")
    dupes = [a for a, n in Counter(u.participant for u in r.updates).items() if n > 1]
    if dupes:
        problems.append(f"participants submitted twice: {dupes}")
    folded = fold_updates((u.participant, u.digest, u.codec, u.num_samples) for u in r.updates)
    if rec.update_commitment is None:
        problems.append("no UpdateSubmitted event for the round's last counted update")
    elif folded != rec.update_commitment:
        problems.append(f"folded {len(r.updates)} events to 0x{folded.hex()}, on chain "
                        f"0x{rec.update_commitment.hex()}")
    if len(r.updates) != rec.submissions:
        problems.append(f"{len(r.updates)} UpdateSubmitted events, on chain {rec.submissions} "
                        "submissions")
    report.add("round.update-commitment", not problems, where, "; ".join(problems) or
               f"{len(r.updates)} updates fold to the on-chain commitment 0x{folded.hex()[:16]}…",
               r.round)


def _check_votes(report: AuditReport, r: RoundLineage, where: str) -> None:
    rec, quorum = r.record, report.lineage.params.quorum
    agreeing = {v.member for v in r.votes if v.agrees_with(rec)}
    seats = sum(r.committee.count(m) for m in agreeing)
    uncommitted = sorted(v.member for v in r.votes if v.agrees_with(rec) and v.commitment is None)
    outsiders = sorted(m for m in agreeing if m not in r.committee)
    outcome, leader, revealed = r.dispute
    problems = []
    if outcome == 3:  # overturned: a dispute committee's majority decided, not the quorum
        if leader * 2 <= revealed:
            problems.append(f"overturned with {leader} of {revealed} revealed dispute seats")
    elif seats < quorum:
        problems.append(f"{seats} seats revealed the finalized result in attempt "
                        f"{rec.attempt}, quorum {quorum}")
    if outcome != 3 and rec.votes < quorum:
        problems.append(f"on-chain votes {rec.votes} < quorum {quorum}")
    if outsiders:
        problems.append(f"revealers not in the committee: {outsiders}")
    if uncommitted:
        problems.append(f"reveals without a Committed event: {uncommitted}")
    others = sum(1 for v in r.votes if v.revealed and not v.agrees_with(rec))
    report.add("round.quorum", not problems, where, "; ".join(problems) or
               (f"overturned by a dispute ({leader} of {revealed} revealed seats)" if outcome == 3
                else f"{seats}/{len(r.committee)} seats ({len(agreeing)} members) revealed the "
                     f"finalized (model, rewards root), quorum {quorum}")
               + (f"; {others} other reveal(s)" if others else ""), r.round)


def _check_cohort(report: AuditReport, r: RoundLineage, where: str) -> None:
    """In a task with a cohort: the round's draw is on chain and every update came from it."""
    k, cohort = report.lineage.params.cohort_size, r.cohort
    if k == 0:
        return
    if cohort is None:
        report.add("round.cohort", False, where,
                   "no CohortDrawn event, yet the task samples a cohort", r.round)
        return
    problems = []
    if cohort.view_seed != cohort.seed:
        problems.append(f"cohortSeed view 0x{cohort.view_seed.hex()} != event seed "
                        f"0x{cohort.seed.hex()}")
    if cohort.size != min(k, cohort.members):
        problems.append(f"the event draws {cohort.size} of {cohort.members}, the task's "
                        f"cohort is {k}")
    outsiders = sorted({u.participant for u in r.updates} - set(cohort.drawn))
    if outsiders:
        problems.append(f"updates from outside the drawn cohort: {outsiders}")
    report.add("round.cohort", not problems, where, "; ".join(problems) or
               f"{len(r.updates)} updates, all from the {len(cohort.drawn)} members drawn "
               f"from seed 0x{cohort.seed.hex()[:16]}…", r.round)


def _check_claims(report: AuditReport, r: RoundLineage, where: str) -> None:
    rec, total = r.record, sum(c.amount for c in r.claims)
    problems = []
    if total > rec.budget:
        problems.append(f"claims {total} exceed the budget {rec.budget}")
    if r.paid is not None and r.paid != total:
        problems.append(f"RewardClaimed events sum to {total}, roundPaid says {r.paid}")
    twice = [a for a, n in Counter(c.account for c in r.claims).items() if n > 1]
    if twice:
        problems.append(f"claimed twice: {twice}")
    report.add("round.claims", not problems, where, "; ".join(problems) or
               f"{len(r.claims)} claims, {total} of budget {rec.budget} paid", r.round)


def _check_availability(report: AuditReport, r: RoundLineage, where: str) -> frozenset[int]:
    """The attestations of the finalizing attempt came from its seat holders, each once, with
    their seats; returns the counted updates (held by ``quorum`` seats)."""
    quorum, n = report.lineage.params.quorum, len(r.updates)
    problems = []
    for member, count in Counter(a.member for a in r.attestations).items():
        if count > 1:
            problems.append(f"{member} attested {count} times")
    for a in r.attestations:
        if a.seats != r.committee.count(a.member):
            problems.append(f"{a.member} attested with {a.seats} seat(s), holds "
                            f"{r.committee.count(a.member)}")
        if any(seq >= n for seq in a.held):
            problems.append(f"{a.member} attested an update past the {n} submitted")
    counted = available(r.attestations, submissions=n, quorum=quorum)
    left_out = sorted(set(range(n)) - counted)
    report.add("round.availability", not problems, where, "; ".join(problems) or
               f"{len(counted)} of {n} updates available (held by >= {quorum} seats of "
               f"{len(r.attestations)} attesting members)"
               + (f"; not counted: {', '.join(f'#{i}' for i in left_out)}" if left_out else ""),
               r.round)
    return counted


def _check_round(report: AuditReport, store: ContentStore, r: RoundLineage,
                 previous: ChainCid) -> None:
    task = report.lineage.task
    where = f"task {task} round {r.round}"
    report.add("round.views-vs-events", not r.disagreements, where,
               "; ".join(r.disagreements) or "finalizedRound view agrees with ModelFinalized",
               r.round)
    _check_parent(report, r, previous, where)
    _check_updates(report, r, where)
    _check_cohort(report, r, where)
    _check_votes(report, r, where)
    _check_claims(report, r, where)
    counted = _check_availability(report, r, where)
    for i, u in enumerate(r.updates):
        if i not in counted:
            continue  # the committee did not hold it: nobody owes anyone its bytes
        _fetch(report, store, ChainCid(u.digest, u.codec), name="artifact.update",
               where=f"{where} update #{i} by {u.participant}", round_=r.round)
    _fetch(report, store, r.record.model, name="artifact.model", where=f"{where} model",
           round_=r.round)


def audit_lineage(lineage: TaskLineage, store: ContentStore, *, target: str,
                  upto_round: int | None = None) -> AuditReport:
    """Check an already read lineage against itself and the content store.

    Args:
        lineage: from ``ledger.lineage.read_lineage``.
        store: where artifacts are fetched (wrap it in ``ArtifactCache`` to share fetches).
        target: what the user asked about (shown in the report).
        upto_round: the last round that must be audited (None: every finalized round).
    """
    last = upto_round if upto_round is not None else max((r.round for r in lineage.rounds),
                                                         default=0)
    report = AuditReport(target=target, lineage=lineage, upto_round=last)
    _check_task(report, store)
    previous = lineage.genesis
    for r in lineage.rounds:
        if r.round > last:
            break
        _check_round(report, store, r, previous)
        previous = r.record.model
    return report


def audit_task(market: FedMarket, store: ContentStore, task: int, *, from_block: int = 0,
               upto_round: int | None = None) -> AuditReport:
    """Audit ``task`` from genesis up to ``upto_round`` (default: its last finalized round).

    Raises:
        ContractCustomError: FedMarketUnknownTask.
        LineageError: the task's on-chain CIDs are not supported CIDs.
        RpcError: the chain endpoint could not be reached.
    """
    lineage = read_lineage(market, task, from_block=from_block, upto_round=upto_round)
    return audit_lineage(lineage, store, target=f"task {task}", upto_round=upto_round)


def audit_model(market: FedMarket, store: ContentStore, cid: Cid, *,
                from_block: int = 0) -> AuditReport:
    """Find the task and round that produced ``cid`` and audit its lineage back to genesis.

    When several tasks produced the same model the earliest finalization is audited and all
    are listed in ``report.locations``.

    Raises:
        ModelNotFoundError: no task produced (or started from) ``cid``.
        RpcError: the chain endpoint could not be reached.
    """
    locations = locate_model(market, cid, from_block=from_block)
    first = locations[0]
    report = audit_task(market, store, first.task, from_block=from_block, upto_round=first.round)
    report.target = str(cid)
    report.locations = tuple(locations)
    try:
        record = (report.lineage.round(first.round).record.model if first.round
                  else report.lineage.genesis)
    except KeyError:
        record = None  # the event found the model, the task's lineage lacks the round
    report.add("target.located", record == ChainCid.of(cid), f"task {first.task} round "
               f"{first.round}", f"{cid} is " + ("the genesis" if first.round == 0 else
                                                 f"round {first.round}'s model")
               + (f" (also produced at {len(locations) - 1} other place(s))"
                  if len(locations) > 1 else ""), first.round)
    return report

