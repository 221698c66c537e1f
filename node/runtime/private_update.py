"""What a participant uploads when its task asks for privacy: DP noise, secure masks, or both.

Pure functions of the plain update file (``node.learning.task.client_update_bytes``), the
manifest and the participant's own secrets, and :func:`participant_private_update`, which
wires them for a ``node.runtime.participant.Participant``. The same inputs give the same
bytes, so a node that restarts between ``put`` and ``submitUpdate`` uploads the very same CID.

* DP (``manifest.dp``, either mode): clip and add Gaussian noise (``node.privacy.dp.privatize``)
  keyed by :func:`dp_secret`, a secret derived from the account key, never from the
  public task seed (anyone could then subtract the noise). ``rounds_before`` is how many
  earlier rounds this participant released a noised update in: the accountant composes
  them.
* Record-level DP (``manifest.dp.level == "record"``): the noise was already added during
  local training (DP-SGD, ``node.learning.dp_sgd``, keyed by :func:`record_noise_key`), so the
  delta is not clipped or noised again; only the DP report and metadata are attached,
  with epsilon from the record-level accountant.
  With distributed DP (``dp.noise_shares > 1``) each update carries only a share of the
  noise; epsilon holds for the secure sum, which needs at least that many updates.
* Open mode: the (noised) delta in the usual float32 update file, with the
  ``fedledger.dp.*`` metadata when DP is on. Without DP the plain file is used unchanged.
* Secure mode: the (noised) delta, weighted and masked against every other member of the
  mask set (``node.privacy.secagg.mask_update``), DP metadata included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from coincurve import PrivateKey
from eth_utils import keccak

from ledger.manifest import TaskManifest
from ledger.market import FedMarket
from node.aggregation.fedavg import capped_weight
from node.aggregation.secure_round import round_ring_params
from node.codec.flat import flatten, unflatten
from node.codec.safetensors import decode_tensors, encode_tensors, expected_layout
from node.errors import NodeError
from node.learning.dp_sgd import record_epsilon
from node.learning.task import client_update_bytes, model_of
from node.numeric import ordered_sum
from node.privacy.dp import DpError, DpReport, noise_seed, privatize
from node.privacy.keys import agreement_private_key
from node.privacy.secagg import mask_update

if TYPE_CHECKING:
    from ledger.market_types import RoundState
    from node.runtime.participant import Participant

__all__ = ["PrivateUpdateError", "dp_secret", "flat_delta", "participant_private_update",
           "private_payload", "record_noise_key", "record_report", "rounds_submitted_before"]

_DP_DOMAIN = b"fedledger/dp-noise-secret/v1"


class PrivateUpdateError(NodeError):
    """A secure-mode update asked for without the key-agreement inputs."""


def rounds_submitted_before(market: FedMarket, task: int, account: str, round_: int) -> int:
    """Earlier rounds ``account`` submitted in (the DP accountant composes them)."""
    events = market.contract.events("UpdateSubmitted", task=task, participant=account)
    return len({e["args"]["round"] for e in events if e["args"]["round"] < round_})


def participant_private_update(node: Participant, state: RoundState
                               ) -> tuple[bytes, int, DpReport | None]:
    """A participant's upload for ``state.round`` in a DP and/or secure task: (payload, number
    of samples, DP report or None)."""
    manifest, secure, secret = node.view.manifest, node.secure, dp_secret(bytes(node.account.key))
    assert state.parent is not None
    record_dp = manifest.dp is not None and manifest.dp.level == "record"
    payload, num_samples = client_update_bytes(
        manifest, node.fetch(state.parent), node.data, node.client_id, state.round,
        noise_key=record_noise_key(secret, task=node.task, round_index=state.round)
        if record_dp else None)
    payload, report = private_payload(
        manifest, payload, num_samples, task=node.task, round_index=state.round,
        own=node.account.address, secret=secret,
        rounds_before=rounds_submitted_before(node.market, node.task, node.account.address,
                                              state.round) if manifest.dp else 0,
        agreement_key=agreement_private_key(node.account) if secure else None,
        peers=secure.peers() if secure else None)
    return payload, num_samples, report


def dp_secret(account_key: bytes) -> bytes:
    """The participant's DP noise secret (32 bytes, from its account key and a domain tag)."""
    return keccak(_DP_DOMAIN + bytes(account_key))


def record_noise_key(secret: bytes, *, task: int, round_index: int) -> int:
    """The DP-SGD noise key for ``client_update_bytes(..., noise_key=...)`` (same
    derivation as the participant-level noise: :func:`node.privacy.dp.noise_seed`).

    Raises:
        DpError: a secret shorter than 16 bytes.
    """
    return noise_seed(secret, task=task, round_index=round_index)


def record_report(manifest: TaskManifest, delta: np.ndarray, num_samples: int, *,
                  rounds_before: int) -> DpReport:
    """The DP report of a record-level (DP-SGD) update: epsilon after this round.

    ``num_samples`` is the participant's local row count (the accountant's
    ``n_local``); ``norm`` is the L2 norm of the already-noised delta.

    Raises:
        DpError: no DP-SGD settings in the manifest, or bad parameters.
    """
    dp = manifest.dp
    if dp is None or dp.level != "record":
        raise DpError("the manifest does not ask for record-level DP")
    rounds = rounds_before + 1
    epsilon = record_epsilon(dp.noise_multiplier, n_local=num_samples,
                             batch_size=manifest.batch_size, epochs=manifest.local_epochs,
                             rounds=rounds, delta=dp.delta)
    flat = np.asarray(delta, dtype=np.float64)
    return DpReport(clip=dp.clip_norm, noise=dp.noise_multiplier, delta=dp.delta,
                    rounds=rounds, epsilon=epsilon, norm=math.sqrt(ordered_sum(flat * flat)),
                    shares=dp.noise_shares)


def flat_delta(manifest: TaskManifest, update_bytes: bytes) -> np.ndarray:
    """The float32 delta inside a plain update file, flat in canonical order.

    Raises:
        CodecError: the file does not fit the manifest's architecture.
    """
    layout = expected_layout(model_of(manifest))
    return flatten(decode_tensors(update_bytes, expected=layout).tensors, layout)


def private_payload(manifest: TaskManifest, update_bytes: bytes, num_samples: int, *,
                    task: int, round_index: int, own: str, secret: bytes, rounds_before: int,
                    agreement_key: PrivateKey | None = None,
                    peers: Mapping[str, bytes] | None = None) -> tuple[bytes, DpReport | None]:
    """The file to upload for this round, and the DP report (None without DP).

    Args:
        manifest: the task manifest (privacy mode, DP settings, caps).
        update_bytes: the plain update file from local training.
        num_samples: the ``numSamples`` that will be submitted with it.
        task, round_index: the round.
        own: this participant's address.
        secret: :func:`dp_secret` of the participant's key.
        rounds_before: earlier rounds this participant submitted a noised update in.
        agreement_key: secure mode: the key-agreement private key.
        peers: secure mode: every OTHER member of the mask set -> its registered key.

    Raises:
        CodecError: the plain file does not fit the architecture.
        DpError: bad DP settings.
        PrivateUpdateError: secure mode without ``agreement_key`` or ``peers``.
        FixedPointError, MaskError, MaskedPayloadError: the update cannot be masked.
    """
    dp = manifest.dp
    if dp is None and manifest.privacy == "open":
        return update_bytes, None
    layout = expected_layout(model_of(manifest))
    delta = flat_delta(manifest, update_bytes)
    report = None
    if dp is not None and dp.level == "record":
        report = record_report(manifest, delta, num_samples, rounds_before=rounds_before)
    elif dp is not None:
        delta, report = privatize(
            delta, clip_norm=dp.clip_norm, noise_multiplier=dp.noise_multiplier,
            delta_dp=dp.delta, seed=noise_seed(secret, task=task, round_index=round_index),
            rounds_before=rounds_before)
    metadata = report.metadata() if report is not None else None
    if manifest.privacy == "open":
        return encode_tensors(unflatten(delta, layout), metadata), report
    if agreement_key is None or peers is None:
        raise PrivateUpdateError("secure mode needs agreement_key and peers")
    members = len(peers) + 1
    masked = mask_update(
        delta, weight=capped_weight(num_samples, manifest.max_samples),
        params=round_ring_params(members=members, max_samples=manifest.max_samples, dp=dp),
        task=task, round_index=round_index, own=own, private_key=agreement_key, peers=peers,
        extra_metadata=metadata)
    return masked, report
