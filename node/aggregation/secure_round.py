"""One secure-mode round, bytes to bytes, as a committee member, the simulator and a
replaying auditor run it.

Inputs are what the chain and IPFS hold: the parent model, the round's submissions in
on-chain order (member, masked file, ``numSamples``), the round's mask set (the task's
members) and the survivors' seed-reveal files. Steps:

1. :func:`classify_submissions`: a submission is valid when its file decodes
   (:func:`node.privacy.secagg.decode_masked`), names its submitter, task and round, uses the
   round's ring, carries the weight ``capped_weight(numSamples, max_samples)`` and commits
   to a seed with every other member of the mask set. Every other member of the mask set
   is *dropped* (no submission or an invalid one); survivors reveal seeds for exactly
   these, and compute the list with this same function.
2. The secure sum (:func:`node.privacy.secagg.secure_sum`) gives ``sum w_i delta_i``; the FedAvg
   delta is that over ``sum w_i``; the rule's server step and the canonical model
   encoding are those of :func:`node.aggregation.round.aggregate_round`, so the same updates
   give an open-mode model equal within the fixed-point resolution.
3. Distributed DP (``min_updates`` = the manifest's ``dp.noise_shares``): with fewer
   valid updates than that the sum would carry less than the full noise, so it is not
   unmasked (survivors do not reveal seeds either): the weights stay the parent's and
   nothing is accepted.
4. If a reveal is missing or wrong the aggregate cannot be unmasked: the weights stay the
   parent's, nothing is accepted, and ``culprits`` names the revealers (a deterministic
   result every honest member agrees on).

Scores are ``samples`` (capped ``numSamples`` of accepted updates): individual updates
are hidden, so leave-one-out scoring is not available in secure mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.manifest import DpSettings
from node.aggregation.fedavg import FedAvg, RuleParamsError, capped_weight
from node.aggregation.round import RoundResult, decode_parent, encode_model
from node.aggregation.rules import make_rule
from node.aggregation.scores import sample_scores
from node.codec.flat import layout_size
from node.codec.safetensors import Layout
from node.privacy.fixed_point import RingParams, ring_params
from node.privacy.masks import MaskError, normalize_address
from node.privacy.secagg import (
    MaskedPayloadError,
    MaskedUpdate,
    SeedRevealError,
    SeedRevealFormatError,
    decode_masked,
    decode_seed_reveal,
    secure_sum,
)

__all__ = ["DEFAULT_VALUE_BOUND", "Classified", "SecureRoundResult", "Submission",
           "classify_submissions", "round_ring_params", "secure_aggregate_round"]

DEFAULT_VALUE_BOUND = 16.0
"""Largest ``|delta|`` per coordinate an honest update has when the task sets no DP clip
(local steps of the built-in models move weights by far less); larger values are refused
by the encoder, so a task with bigger updates should set ``dp`` or a smaller ``lr``."""


@dataclass(frozen=True)
class Submission:
    """One ``UpdateSubmitted`` of a secure round, with the fetched file."""

    member: str
    data: bytes
    num_samples: int


@dataclass(frozen=True)
class Classified:
    """Which submissions can be summed, and which members' masks must be recovered.

    Attributes:
        valid: ``(submission index, decoded update)`` in submission order.
        invalid: submission index -> reason.
        dropped: mask-set members without a valid update, sorted.
    """

    valid: tuple[tuple[int, MaskedUpdate], ...]
    invalid: Mapping[int, str]
    dropped: tuple[str, ...]


@dataclass(frozen=True)
class SecureRoundResult(RoundResult):
    """A :class:`RoundResult` plus who dropped and whose seed reveals failed.

    Attributes:
        dropped: mask-set members whose masks were recovered (or had to be), sorted.
        culprits: ``(revealer, dropped member, reason)`` of every missing or wrong seed
            reveal; non-empty means the round kept the parent's weights.
    """

    dropped: tuple[str, ...] = ()
    culprits: tuple[tuple[str, str, str], ...] = ()


def round_ring_params(*, members: int, max_samples: int, dp: DpSettings | None) -> RingParams:
    """The ring every member of a secure round uses: a function of on-chain/manifest data.

    With participant-level DP, an honest coordinate is at most the clip norm plus 10 noise standard
    deviations (exceeded with probability ~1e-23 per coordinate).

    Raises:
        FixedPointError: a bound the ring cannot hold for ``members`` updates.
    """
    # Record-level DP (DP-SGD) does not clip the whole update: it is bounded like a plain one.
    bound = (DEFAULT_VALUE_BOUND if dp is None or dp.level == "record"
             else dp.clip_norm * (1.0 + 10.0 * dp.noise_multiplier))
    return ring_params(max_members=members, max_weight=max_samples, value_bound=bound)


def classify_submissions(submissions: Sequence[Submission], *, mask_set: Sequence[str],
                         task: int, round_index: int, params: RingParams, size: int,
                         max_samples: int | None) -> Classified:
    """Split a round's submissions into summable and invalid; list the dropped members.

    Raises:
        MaskError: a malformed address in ``mask_set``.
    """
    members = {normalize_address(m) for m in mask_set}
    valid: list[tuple[int, MaskedUpdate]] = []
    invalid: dict[int, str] = {}
    seen: set[str] = set()
    for index, sub in enumerate(submissions):
        try:
            member = normalize_address(sub.member)
            if member not in members or member in seen:
                raise MaskedPayloadError(f"{member} is not in the mask set or submitted twice")
            if not isinstance(sub.num_samples, int) or sub.num_samples < 1:
                raise MaskedPayloadError(f"numSamples {sub.num_samples!r} is not positive")
            update = decode_masked(sub.data, size=size)
            expected = (member, task, round_index, params,
                        capped_weight(sub.num_samples, max_samples), members - {member})
            found = (update.member, update.task, update.round, update.params, update.weight,
                     set(update.commitments))
            if found != expected:
                raise MaskedPayloadError("member, task, round, ring, weight or mask set differ")
        except (MaskedPayloadError, MaskError) as err:
            invalid[index] = f"{type(err).__name__}: {err}"
            continue
        seen.add(member)
        valid.append((index, update))
    dropped = tuple(sorted(members - seen))
    return Classified(valid=tuple(valid), invalid=invalid, dropped=dropped)


def secure_aggregate_round(parent_model_bytes: bytes, submissions: Sequence[Submission], *,
                           mask_set: Sequence[str], reveals: Mapping[str, bytes], task: int,
                           round_index: int, params: RingParams, layout: Layout, rule: str,
                           rule_params: Mapping[str, object] | None = None,
                           max_samples: int | None = None,
                           min_updates: int = 1) -> SecureRoundResult:
    """Aggregate one secure round from bytes to canonical model bytes.

    Args:
        parent_model_bytes: the round's global model file.
        submissions: the round's submissions in on-chain order.
        mask_set: the round's members (every one masked against every other).
        reveals: revealer address -> its seed-reveal file (needed when someone dropped).
        task, round_index: the round.
        params: the round's ring parameters (:func:`node.privacy.fixed_point.ring_params`).
        layout: the architecture's layout.
        rule: a rule whose aggregator is FedAvg (``fedavg``, ``fedavgm``, ``fedadam``).
        rule_params: the rule's parameters.
        max_samples: cap on ``numSamples``.
        min_updates: the fewest valid updates whose sum may be unmasked (distributed DP's
            ``noise_shares``); with fewer, the round keeps the parent's weights.

    Returns:
        The result; ``culprits`` non-empty when the sum could not be unmasked.

    Raises:
        CodecError: the parent model does not decode or fit ``layout``.
        RuleParamsError: a rule that needs individual updates.
        NonFiniteResultError: the server step produced NaN or infinity.
    """
    layout = {name: (tuple(shape), dtype) for name, (shape, dtype) in sorted(layout.items())}
    round_rule = make_rule(rule, rule_params)
    if not isinstance(round_rule.aggregator, FedAvg):
        raise RuleParamsError(f"rule {rule!r} needs individual updates; not in secure mode")
    parent, state = decode_parent(parent_model_bytes, layout, round_rule.optimizer.slots)
    classified = classify_submissions(submissions, mask_set=mask_set, task=task,
                                      round_index=round_index, params=params,
                                      size=layout_size(layout), max_samples=max_samples)
    rejected = dict(classified.invalid)
    revealed, culprits = _read_reveals(reveals, classified, task, round_index)
    updates = [update for _, update in classified.valid]
    new, new_state, accepted = parent, state, []
    if updates and len(updates) < min_updates:
        for index, _ in classified.valid:
            rejected[index] = (f"sum not unmasked: {len(updates)} valid update(s), distributed "
                               f"DP needs at least {min_updates} noise shares")
    elif updates:
        try:
            total = secure_sum(updates, classified.dropped, revealed)
        except SeedRevealError as err:
            malformed = {who for who, _, _ in culprits}
            culprits += [c for c in err.culprits if c[0] not in malformed]
        else:
            if not culprits:
                delta = total.weighted_sum / float(total.total_weight)
                new, new_state = round_rule.optimizer.step(parent, delta, state)
                accepted = [index for index, _ in classified.valid]
    if culprits:
        culprits = sorted(set(culprits))
        for index, _ in classified.valid:
            rejected[index] = f"round unrecoverable: bad seed reveals {culprits}"
    model_bytes = encode_model(new, new_state, layout, round_rule, rule_params,
                                round_index)
    scores = [0] * len(submissions)
    for index, score in zip(accepted, sample_scores(
            [submissions[i].num_samples for i in accepted], max_samples), strict=True):
        scores[index] = score
    return SecureRoundResult(model_bytes=model_bytes, accepted=accepted,
                             rejected=sorted(rejected.items()), scores=scores,
                             order=accepted, dropped=classified.dropped,
                             culprits=tuple(culprits))


def _read_reveals(reveals: Mapping[str, bytes], classified: Classified, task: int,
                  round_index: int) -> tuple[dict[str, dict[str, bytes]], list]:
    """Decode the survivors' reveal files; a malformed or misdirected file is a culprit."""
    revealed: dict[str, dict[str, bytes]] = {}
    culprits: list[tuple[str, str, str]] = []
    if not classified.dropped:
        return revealed, culprits
    by_member = {}
    for who, data in reveals.items():
        try:
            by_member[normalize_address(who)] = data
        except MaskError:
            continue  # not an address: cannot be a survivor's reveal
    for _, update in classified.valid:
        data = by_member.get(update.member)
        if data is None:
            continue  # secure_sum names every missing seed
        try:
            reveal = decode_seed_reveal(data)
            if (reveal.task, reveal.round, reveal.revealer) != (task, round_index, update.member):
                raise SeedRevealFormatError("reveal is for another task, round or revealer")
        except SeedRevealFormatError as err:
            culprits.extend((update.member, d, f"malformed reveal: {err}")
                            for d in classified.dropped)
            continue
        revealed[update.member] = dict(reveal.seeds)
    return revealed, culprits
