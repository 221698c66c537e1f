"""``fedledger audit --replay`` on a DP task: every accepted update's privacy claim, shown
and checked.

A DP update file states what its author spent (``fedledger.dp.*`` metadata, written by
``node.runtime.private_update``). The auditor cannot see from outside whether noise was really
added, but it can hold each claim to the manifest and the chain: clip, noise, delta and
noise shares must be the manifest's; ``rounds`` must be the number of rounds, this one
included, in which the participant has an update on chain; and ``epsilon`` must be what
the accountant gives for those (recomputed here with the same Opacus RDP accountant:
participant level and distributed DP compose one release per round, record level uses the
participant's on-chain ``numSamples`` as its row count).

Each claim becomes a ``replay.dp-claim`` check and a row of
``report.round_info[round]["dp"]``: ``[participant, epsilon, delta, rounds]``.
"""

from __future__ import annotations

from collections import Counter

from ledger.audit_report import AuditReport
from ledger.content_errors import ContentError
from ledger.lineage_types import RoundLineage
from ledger.manifest import TaskManifest
from ledger.store import ContentStore
from node.codec.flat import layout_size
from node.codec.safetensors import CodecError, decode_tensors, expected_layout
from node.learning.dp_sgd import record_epsilon
from node.learning.task import model_of
from node.privacy.dp import DpError, epsilon_spent
from node.privacy.secagg import MaskedPayloadError, decode_masked

__all__ = ["check_dp_claims", "expected_claim"]


def expected_claim(manifest: TaskManifest, *, rounds: int, num_samples: int) -> dict[str, str]:
    """The ``fedledger.dp.*`` metadata an honest update carries after ``rounds`` rounds.

    Raises:
        DpError: the manifest has no DP, or bad parameters.
    """
    dp = manifest.dp
    if dp is None:
        raise DpError("the manifest asks for no DP")
    if dp.level == "record":
        epsilon = record_epsilon(dp.noise_multiplier, n_local=num_samples,
                                 batch_size=manifest.batch_size, epochs=manifest.local_epochs,
                                 rounds=rounds, delta=dp.delta)
    else:
        epsilon = epsilon_spent(dp.noise_multiplier, rounds, dp.delta)
    claim = {"fedledger.dp.clip": repr(dp.clip_norm), "fedledger.dp.delta": repr(dp.delta),
             "fedledger.dp.epsilon": repr(epsilon), "fedledger.dp.noise": repr(dp.noise_multiplier),
             "fedledger.dp.rounds": str(rounds)}
    if dp.noise_shares > 1:
        claim["fedledger.dp.shares"] = str(dp.noise_shares)
    return claim


def _metadata(manifest: TaskManifest, data: bytes) -> dict[str, str]:
    layout = expected_layout(model_of(manifest))
    if manifest.privacy == "secure":
        return dict(decode_masked(data, size=layout_size(layout)).metadata)
    return dict(decode_tensors(data, expected=layout).metadata)


def check_dp_claims(report: AuditReport, store: ContentStore, r: RoundLineage,
                    excluded: set[str], submitted: Counter[str]) -> None:
    """Check the DP claim of every accepted update of round ``r``.

    Args:
        report: the audit (its manifest asks for DP).
        store: where the updates are fetched.
        r: the round.
        excluded: participants whose update the replay left out (they carry no claim).
        submitted: participant -> rounds with an update on chain so far; this round's
            are added here.
    """
    manifest = report.manifest
    assert manifest is not None and manifest.dp is not None
    rows = report.round_info.setdefault(r.round, {}).setdefault("dp", [])
    for i, u in enumerate(r.updates):
        submitted[u.participant.lower()] += 1
        if u.participant in excluded or u.cid is None:
            continue
        where = f"task {report.lineage.task} round {r.round} update #{i} by {u.participant}"
        rounds = submitted[u.participant.lower()]
        try:
            found = {k: v for k, v in _metadata(manifest, store.get(u.cid)).items()
                     if k.startswith("fedledger.dp.")}
            want = expected_claim(manifest, rounds=rounds, num_samples=u.num_samples)
        except (ContentError, CodecError, MaskedPayloadError, DpError) as err:
            report.add("replay.dp-claim", False, where,
                       f"cannot read the claim: {type(err).__name__}: {err}", r.round)
            continue
        ok = found == want
        epsilon = found.get("fedledger.dp.epsilon", "?")
        report.add("replay.dp-claim", ok, where,
                   f"{u.participant}: epsilon {epsilon} at delta {found.get('fedledger.dp.delta', '?')} after "
                   f"{found.get('fedledger.dp.rounds', '?')} round(s)"
                   + ("" if ok else f"; manifest and chain give {want}"), r.round)
        rows.append([u.participant, epsilon, found.get("fedledger.dp.delta", "?"),
                     found.get("fedledger.dp.rounds", "?")])
