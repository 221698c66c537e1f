"""``fedledger audit --replay``: recompute every round and hold the chain to it, bit for bit.

For each audited round the replay fetches the on-chain parent and the round's counted updates
(in on-chain submission order; those the finalizing attempt's committee did not attest as
available are left out unread, as the committee left them out) and runs ``node.runtime.committee.compute_round``, exactly what every
committee member ran. The recomputed model must have the same CID as the finalized one
and the recomputed rewards the same Merkle root; a quorum that agreed on anything else
(an update left out, a reward skewed) fails here even though every on-chain check passes.

Each round is replayed from the parent the chain names, not from the previous replay, so
one bad round is reported once and the rounds after it are still judged on their own
(the parent link itself is ``ledger.audit``'s ``round.parent-link`` check).

A ``secure`` task's rounds also need the task's mask set and the survivors' seed reveals
of each finalizing attempt (``secure``: ``(round, attempt) -> SecureInputs``, read from the
chain by ``node.runtime.secure_participant.secure_inputs_reader``); without them its rounds fail
as "cannot replay".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ledger.audit_report import AuditReport
from ledger.availability import unavailable_reasons
from ledger.content_errors import ContentError
from ledger.lineage_types import ChainCid, RoundLineage
from ledger.store import ContentStore
from node.audit.dp_claims import check_dp_claims
from node.audit.evaluation import evaluate_model, load_eval_data
from node.data.datasets import TensorData
from node.errors import NodeError
from node.runtime.committee import RoundOutcome, SecureInputs, compute_round

SecureReader = Callable[[int, int], SecureInputs]

__all__ = ["replay_report"]


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _outcome(report: AuditReport, store: ContentStore, r: RoundLineage,
             where: str, secure: SecureReader | None) -> RoundOutcome | None:
    manifest, rec = report.manifest, r.record
    parent = rec.parent.cid
    if manifest is None or parent is None:
        why = "no valid manifest" if manifest is None else f"parent {rec.parent} is not a CID"
        report.add("replay.model", False, where, f"cannot replay: {why}", r.round)
        return None
    try:
        parent_bytes = store.get(parent)
        inputs = (secure(r.round, rec.attempt)
                  if secure is not None and manifest.privacy == "secure" else None)
        skipped = unavailable_reasons(r.attestations, submissions=len(r.updates),
                                      quorum=report.lineage.params.quorum)
        return compute_round(manifest, report.lineage.params, r.round, parent_bytes,
                             r.updates, store.get, secure=inputs, not_counted=skipped)
    except (ContentError, NodeError) as err:
        report.add("replay.model", False, where,
                   f"cannot replay from parent {parent}: {type(err).__name__}: {err}", r.round)
        return None


def _metrics(report: AuditReport, store: ContentStore, data: TensorData, round_: int,
             model: ChainCid) -> None:
    assert report.manifest is not None
    cid = model.cid
    info = report.round_info.setdefault(round_, {})
    try:
        if cid is None:
            raise NodeError(f"{model} is not a CID")
        info["metrics"] = evaluate_model(report.manifest, store.get(cid), data).as_dict()
    except (ContentError, NodeError) as err:
        info["metrics_error"] = f"{type(err).__name__}: {err}"


def replay_report(report: AuditReport, store: ContentStore, *,
                  eval_data: str | Path | None = None,
                  secure: SecureReader | None = None) -> AuditReport:
    """Replay every audited round of ``report`` and append the checks to it.

    Adds per round ``replay.model`` and ``replay.rewards-root`` checks (and on a DP task
    a ``replay.dp-claim`` check per accepted update, ``node.audit.dp_claims``) and, in
    ``report.round_info[round]``: the replayed model and root, the rewards and the excluded
    updates; with ``eval_data``, the metrics of the on-chain model (round 0: genesis).

    Args:
        report: from ``ledger.audit``; its manifest is used to rebuild the architecture.
        store: where the parent and updates are fetched (an ``ArtifactCache`` reuses the
            audit's fetches).
        eval_data: a CSV in the task's schema to evaluate each model on.
        secure: for a secure task, ``(round, attempt) -> SecureInputs`` from the chain.

    Returns:
        The same report, extended.

    Raises:
        DataError: ``eval_data`` cannot be read or does not fit the task's schema.
    """
    lineage = report.lineage
    data = None
    if eval_data is not None and report.manifest is not None:
        data = load_eval_data(report.manifest, eval_data)
        # Say which rows the metrics are on: a reader must know whether they were trained on.
        report.round_info.setdefault(0, {})["eval_source"] = \
            f"{Path(eval_data).name} ({len(data.y)} rows)"
        _metrics(report, store, data, 0, lineage.genesis)
    submitted: Counter[str] = Counter()
    for r in lineage.rounds:
        if r.round > report.upto_round:
            break
        where = f"task {lineage.task} round {r.round}"
        outcome = _outcome(report, store, r, where, secure)
        if outcome is not None:
            _record(report, r, outcome, where)
        if report.manifest is not None and report.manifest.dp is not None:
            excluded = {who for who, _ in outcome.excluded} if outcome is not None else set()
            check_dp_claims(report, store, r, excluded, submitted)
        if data is not None:
            _metrics(report, store, data, r.round, r.record.model)
    return report


def _record(report: AuditReport, r: RoundLineage, outcome: RoundOutcome, where: str) -> None:
    rec = r.record
    report.add("replay.model", ChainCid.of(outcome.model) == rec.model, where,
               f"recomputed {outcome.model}" + (" = on chain" if ChainCid.of(outcome.model)
                                                == rec.model else f", on chain {rec.model}"),
               r.round)
    same_root = outcome.rewards_root == rec.rewards_root
    report.add("replay.rewards-root", same_root, where,
               f"recomputed {_hex(outcome.rewards_root)}"
               + (" = on chain" if same_root else f", on chain {_hex(rec.rewards_root)}"),
               r.round)
    report.round_info.setdefault(r.round, {}).update(
        replayed_model=str(outcome.model), replayed_rewards_root=_hex(outcome.rewards_root),
        rewards=[[who, amount] for who, amount in outcome.rewards],
        excluded=[[who, why] for who, why in outcome.excluded])
    if outcome.dropped or outcome.culprits:  # secure rounds: recovered and blamed members
        report.round_info[r.round].update(dropped=list(outcome.dropped),
                                          seed_culprits=[list(c) for c in outcome.culprits])
