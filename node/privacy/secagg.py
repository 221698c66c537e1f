"""Secure aggregation: masked update files, seed reveals, and the secure sum.

A participant in a ``secure`` round publishes, instead of its delta, a canonical
safetensors file with ONE tensor ``"masked"`` (dtype ``U64``, shape ``[n]``):

    masked = encode_weighted(delta, weight) + sum_j sign(me, j) * mask(seed(me, j))   (mod 2^64)

over every other member ``j`` of the round's mask set (the task's members), plus metadata
(sorted keys, all strings): ``fedledger.secagg.{version, task, round, member, weight,
frac_bits, max_members, commitments}`` where ``commitments`` is the compact JSON
``{peer: hex(sha256(tag || seed))}``. The file is content-addressed and its CID goes on
chain with ``submitUpdate``, so the commitments are fixed before anyone drops out.

For every member ``d`` of the mask set that has no valid masked update in the round, each
survivor ``s`` publishes a *seed reveal* (canonical JSON, :func:`encode_seed_reveal`) with
``seed(s, d)``; :func:`secure_sum` checks each against ``s``'s own commitment and removes
the dangling masks. A missing, malformed or wrong reveal makes the sum unrecoverable and
is reported with the revealer's address (:class:`SeedRevealError`).

Errors::

    NodeError
    └── SecureAggError
        ├── MaskedPayloadError  (a masked update file that does not parse or fit the round)
        ├── SeedRevealFormatError (a seed reveal file that does not parse)
        └── SeedRevealError     (missing or wrong reveals; ``culprits`` names the revealers)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from coincurve import PrivateKey

from node.privacy.fixed_point import RingParams, decode_sum, encode_weighted
from node.privacy.masks import (
    add_pair_masks,
    expand_mask,
    mask_sign,
    normalize_address,
    pair_seed,
    seed_commitment,
)
from node.privacy.secagg_files import (
    MASKED_TENSOR,
    MaskedPayloadError,
    MaskedUpdate,
    SecureAggError,
    SeedReveal,
    SeedRevealError,
    SeedRevealFormatError,
    decode_masked,
    decode_seed_reveal,
    encode_masked,
    encode_seed_reveal,
)

__all__ = [
    "MASKED_TENSOR",
    "MaskedPayloadError",
    "MaskedUpdate",
    "SecureAggError",
    "SecureSum",
    "SeedReveal",
    "SeedRevealError",
    "SeedRevealFormatError",
    "decode_masked",
    "decode_seed_reveal",
    "encode_seed_reveal",
    "mask_update",
    "reveal_seeds",
    "secure_sum",
]

@dataclass(frozen=True)
class SecureSum:
    """The unmasked weighted sum of a secure round.

    Attributes:
        weighted_sum: ``sum_i w_i * delta_i`` (float64), exact up to ``params.resolution``.
        total_weight: ``sum_i w_i`` over the summed updates.
        ring_sum: the unmasked ring sum (``uint64``), equal to the sum of the plain
            encodings exactly.
        members: the summed members in the order given.
    """

    weighted_sum: np.ndarray
    total_weight: int
    ring_sum: np.ndarray
    members: tuple[str, ...]


# ---------------------------------------------------------------------- masking


def mask_update(delta: np.ndarray, *, weight: int, params: RingParams, task: int,
                round_index: int, own: str, private_key: PrivateKey,
                peers: Mapping[str, bytes],
                extra_metadata: Mapping[str, str] | None = None) -> bytes:
    """The masked update file a participant puts on IPFS in a secure round.

    Args:
        delta: the flat float delta (canonical order, ``node.codec.flat.flatten``).
        weight: ``capped_weight(numSamples, max_samples)``, the same numSamples it
            submits on chain.
        params: the round's ring parameters (identical for every member).
        task: task id; round_index: the round.
        own: this member's address.
        private_key: this member's key-agreement key.
        peers: every OTHER member of the mask set -> its registered public key.
        extra_metadata: more metadata (e.g. ``node.privacy.dp`` keys); must not use the
            ``fedledger.secagg.`` prefix.

    Returns:
        Canonical safetensors bytes.

    Raises:
        FixedPointError: a value that is not finite or beyond the ring bound.
        MaskError: a bad address or public key, or ``own`` among ``peers``.
        MaskedPayloadError: reserved keys in ``extra_metadata``, or more members than
            ``params.max_members``.
    """
    own = normalize_address(own)
    seeds = {normalize_address(peer): pair_seed(private_key, key, task=task,
                                                round_index=round_index, own=own, peer=peer)
             for peer, key in peers.items()}
    if len(seeds) + 1 > params.max_members:
        raise MaskedPayloadError(
            f"{len(seeds) + 1} members exceed the ring's max_members {params.max_members}")
    vector = add_pair_masks(encode_weighted(delta, weight, params), own, seeds)
    commitments = {peer: seed_commitment(seed) for peer, seed in seeds.items()}
    return encode_masked(vector, member=own, task=task, round_index=round_index, weight=weight,
                         params=params, commitments=commitments, extra_metadata=extra_metadata)


def reveal_seeds(private_key: PrivateKey, *, own: str, dropped: Mapping[str, bytes],
                 task: int, round_index: int) -> bytes:
    """The seed reveal file a survivor publishes for the round's dropped members.

    Args:
        private_key: the survivor's key-agreement key.
        own: the survivor's address.
        dropped: dropped member -> its registered public key.
        task, round_index: the round.

    Raises:
        MaskError: a bad address or public key.
    """
    seeds = {normalize_address(d): pair_seed(private_key, key, task=task,
                                             round_index=round_index, own=own, peer=d)
             for d, key in dropped.items()}
    return encode_seed_reveal(SeedReveal(task=task, round=round_index,
                                         revealer=normalize_address(own), seeds=seeds))


# ---------------------------------------------------------------------- the sum


def secure_sum(updates: Sequence[MaskedUpdate], dropped: Sequence[str],
               reveals: Mapping[str, Mapping[str, bytes]]) -> SecureSum:
    """Unmask the weighted sum of a round's masked updates.

    Ring addition is exact and order-free, so the result is bit-for-bit the same on
    every machine whatever the order of ``updates``.

    Args:
        updates: the valid masked updates (same task, round, ring and length).
        dropped: the other members of the mask set (no valid update this round).
        reveals: survivor -> {dropped member -> revealed pair seed}; needed only when
            ``dropped`` is not empty. Seeds for anyone not dropped are ignored.

    Returns:
        The weighted sum, total weight and ring sum.

    Raises:
        SecureAggError: no updates, or updates that disagree on task, round, ring,
            length or mask set.
        SeedRevealError: a survivor's seed for a dropped member is missing or does not
            match its commitment; every such ``(survivor, dropped, reason)`` is named.
    """
    if not updates:
        raise SecureAggError("a secure sum needs at least one update")
    first = updates[0]
    members = [u.member for u in updates]
    lost = sorted({normalize_address(d) for d in dropped})
    mask_set = set(members) | set(lost)
    if len(set(members)) != len(members) or set(members) & set(lost):
        raise SecureAggError("a member appears twice among submitters and dropped members")
    if len(mask_set) > first.params.max_members:
        raise SecureAggError(f"{len(mask_set)} members exceed max_members {first.params.max_members}")
    for update in updates:
        if ((update.task, update.round, update.params, update.vector.size)
                != (first.task, first.round, first.params, first.vector.size)):
            raise SecureAggError(f"update of {update.member} is for another round or ring")
        if set(update.commitments) != mask_set - {update.member}:
            raise SecureAggError(f"update of {update.member} was masked for another member set")
    culprits: list[tuple[str, str, str]] = []
    for update in updates:
        given = {normalize_address(k): v for k, v in reveals.get(update.member, {}).items()}
        for peer in lost:
            seed = given.get(peer)
            if seed is None:
                culprits.append((update.member, peer, "no seed revealed"))
            elif len(seed) != 32 or seed_commitment(seed) != update.commitments[peer]:
                culprits.append((update.member, peer, "revealed seed does not match commitment"))
    if culprits:
        raise SeedRevealError(culprits)
    ring = np.zeros(first.vector.size, dtype=np.uint64)
    for update in updates:
        np.add(ring, update.vector, out=ring)
    for update in updates:  # remove each survivor's masks with the dropped members
        given = {normalize_address(k): v for k, v in reveals.get(update.member, {}).items()}
        for peer in lost:
            mask = expand_mask(given[peer], ring.size)
            if mask_sign(update.member, peer) > 0:
                np.subtract(ring, mask, out=ring)
            else:
                np.add(ring, mask, out=ring)
    return SecureSum(weighted_sum=decode_sum(ring, first.params),
                     total_weight=sum(u.weight for u in updates), ring_sum=ring,
                     members=tuple(members))
