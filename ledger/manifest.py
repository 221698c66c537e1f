"""Task manifests: what a requester asks for, as one canonical JSON document.

The contract stores only the CID of a manifest; every node fetches the bytes, checks
the CID, and parses them here. Because a manifest is identified by the hash of its
bytes, ``to_json_bytes`` is canonical: sorted keys, no whitespace, ASCII only, every
field present (defaults written out; optional parts added later, such as ``personalization``,
only when they differ from their default), floats always written as floats. Parsing
validates every field and raises ``ManifestError`` naming the first bad one.

This module is torch-free: the architecture and data set are *names* the node maps
to its own code (never code shipped in the manifest).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from ledger.manifest_fields import (
    ManifestError,
    choice_field,
    float_field,
    int_field,
    mapping_field,
    sub_fields,
    thaw,
)

__all__ = [
    "AGGREGATION_RULES",
    "DATASETS",
    "DP_LEVELS",
    "MANIFEST_VERSION",
    "OPTIMIZERS",
    "PERSONALIZATION_MODES",
    "PRIVACY_MODES",
    "REWARD_RULES",
    "DpSettings",
    "ManifestError",
    "Personalization",
    "PhaseDurations",
    "TaskManifest",
]

MANIFEST_VERSION = 1
OPTIMIZERS = ("adam", "sgd")
PRIVACY_MODES = ("open", "secure")
DP_LEVELS = ("participant", "record")
DATASETS = ("csv", "digits", "shoppers")
PERSONALIZATION_MODES = ("none", "finetune", "mix")
AGGREGATION_RULES = (
    "fedadam",
    "fedavg",
    "fedavgm",
    "krum",
    "median",
    "multikrum",
    "norm_clip",
    "trimmed_mean",
)
# Rules that only need the *sum* of updates, so they also work on masked (secure) updates.
_SUM_ONLY_RULES = ("fedadam", "fedavg", "fedavgm")
REWARD_RULES = ("leave_one_out", "samples")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class PhaseDurations:
    """Seconds each on-chain phase of a round stays open.

    Attributes:
        train: participants train and call ``submitUpdate``.
        commit: committee members commit ``hash(modelCid, rewardsRoot, salt)``.
        reveal: committee members reveal; a quorum of equal reveals finalizes.
    """

    train: int
    commit: int
    reveal: int

    def __post_init__(self) -> None:
        for f in fields(self):
            int_field(f"phase_durations.{f.name}", getattr(self, f.name), minimum=1)


@dataclass(frozen=True)
class DpSettings:
    """Differential privacy for each update: clip to ``clip_norm``, add Gaussian noise.

    Attributes:
        clip_norm: L2 bound of each update (delta) before noise.
        noise_multiplier: noise std as a multiple of ``clip_norm``.
        delta: the delta at which epsilon is reported.
        level: ``"participant"`` (clip and noise each whole update, ``node.privacy.dp``) or
            ``"record"`` (DP-SGD inside local training: clip each example's gradient to
            ``clip_norm`` and noise every step, ``node.learning.dp_sgd``). Written to the canonical
            JSON only when it is not the default, so older manifests keep their bytes.
        noise_shares: distributed DP (secure mode, record level): each participant adds
            only ``1/sqrt(noise_shares)`` of the noise std, and a round's masked sum is
            unmasked only when it holds at least ``noise_shares`` updates, so the sum carries
            at least the full noise ``noise_multiplier * clip_norm``. 1 (the default) means
            every update carries the full noise itself.
    """

    clip_norm: float
    noise_multiplier: float
    delta: float
    level: str = "participant"
    noise_shares: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "clip_norm",
                           float_field("dp.clip_norm", self.clip_norm, minimum=0.0, open_min=True))
        object.__setattr__(self, "noise_multiplier",
                           float_field("dp.noise_multiplier", self.noise_multiplier, minimum=0.0))
        object.__setattr__(self, "delta",
                           float_field("dp.delta", self.delta, minimum=0.0, maximum=1.0, open_min=True))
        choice_field("dp.level", self.level, DP_LEVELS)
        int_field("dp.noise_shares", self.noise_shares, minimum=1)


@dataclass(frozen=True)
class Personalization:
    """What each participant keeps for itself once the task ends (never uploaded).

    Attributes:
        mode: ``"none"`` (keep only the global model), ``"finetune"`` (train the final global
            model further on one's own rows) or ``"mix"`` (the fine-tuned weights interpolated
            with the global ones: ``mix * finetuned + (1 - mix) * global``).
        epochs: local epochs of fine-tuning.
        lr_scale: fine-tuning learning rate as a multiple of the task's ``lr``.
        proximal_mu: weight of ``mu/2 * ||w - w_global||^2`` in the fine-tuning loss (Ditto's
            pull towards the global model; 0: plain fine-tuning).
        mix: ``"mix"`` only: the fine-tuned model's share.

    The defaults are what ``scripts/bench_personal.py`` chose on the shops' validation rows.
    """

    mode: str = "finetune"
    epochs: int = 3
    lr_scale: float = 0.2
    proximal_mu: float = 1.0
    mix: float = 0.5

    def __post_init__(self) -> None:
        choice_field("personalization.mode", self.mode, PERSONALIZATION_MODES)
        int_field("personalization.epochs", self.epochs, minimum=1)
        object.__setattr__(self, "lr_scale", float_field(
            "personalization.lr_scale", self.lr_scale, minimum=0.0, open_min=True))
        object.__setattr__(self, "proximal_mu", float_field(
            "personalization.proximal_mu", self.proximal_mu, minimum=0.0))
        object.__setattr__(self, "mix", float_field(
            "personalization.mix", self.mix, minimum=0.0, maximum=1.0))


@dataclass(frozen=True)
class TaskManifest:
    """Everything a participant needs to take part in a task, apart from its own data.

    Attributes:
        architecture: registry name of the model (``node.learning.models``), e.g. ``"logreg"``.
        model_params: the builder's parameters, e.g. ``{"n_features": 67, "n_classes": 2}``.
        dataset: ``"shoppers"``, ``"digits"`` or ``"csv"`` (a user table, see ``data_schema``).
        data_schema: columns and fixed transforms (``node.data.preprocess.DataSchema``); required
            for ``"csv"``, optional otherwise (the built-in schema is used).
        test_fraction: share of each participant's rows held out for local evaluation.
        rounds: number of federated rounds.
        local_epochs, batch_size, optimizer, lr: local training.
        fedprox_mu: FedProx proximal weight (0 disables it).
        aggregation, aggregation_params: the aggregation rule and its parameters.
        max_samples: cap on a participant's self-reported ``numSamples`` weight.
        reward_rule, reward_params: how contribution scores are computed.
        privacy: ``"open"`` or ``"secure"`` (masked updates; sum-only rules).
        dp: optional differential-privacy settings.
        personalization: the personal model each participant keeps (``Personalization``);
            written to the canonical JSON only when it is not the default, so manifests
            from before it keep their bytes and CIDs.
        committee_size, quorum: aggregators per round and equal reveals needed (a majority).
        phase_durations: seconds per round phase.
        stake: the least wei a participant locks when joining (more buys more committee seats).
        seed: task seed (genesis init, per-round training seeds, splits).
        version: manifest format version.

    Raises:
        ManifestError: naming the first field that does not validate.
    """

    architecture: str
    model_params: Mapping[str, Any]
    dataset: str
    rounds: int
    local_epochs: int
    batch_size: int
    optimizer: str
    lr: float
    aggregation: str
    max_samples: int
    reward_rule: str
    privacy: str
    committee_size: int
    quorum: int
    phase_durations: PhaseDurations
    stake: int
    seed: int
    data_schema: Mapping[str, Any] | None = None
    test_fraction: float = 0.2
    fedprox_mu: float = 0.0
    aggregation_params: Mapping[str, Any] = field(default_factory=dict)
    reward_params: Mapping[str, Any] = field(default_factory=dict)
    dp: DpSettings | None = None
    personalization: Personalization = field(default_factory=Personalization)
    version: int = MANIFEST_VERSION

    def __post_init__(self) -> None:  # one check per field, in field order
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if not isinstance(self.architecture, str) or not _NAME_RE.match(self.architecture):
            raise ManifestError("architecture", f"must be a lowercase name, got {self.architecture!r}")
        put("model_params", mapping_field("model_params", self.model_params))
        choice_field("dataset", self.dataset, DATASETS)
        if self.data_schema is None:
            if self.dataset == "csv":
                raise ManifestError("data_schema", "required when dataset is 'csv'")
        else:
            put("data_schema", mapping_field("data_schema", self.data_schema))
        put("test_fraction", float_field("test_fraction", self.test_fraction, minimum=0.0, maximum=0.9))
        int_field("rounds", self.rounds, minimum=1)
        int_field("local_epochs", self.local_epochs, minimum=1)
        int_field("batch_size", self.batch_size, minimum=1)
        choice_field("optimizer", self.optimizer, OPTIMIZERS)
        put("lr", float_field("lr", self.lr, minimum=0.0, open_min=True))
        put("fedprox_mu", float_field("fedprox_mu", self.fedprox_mu, minimum=0.0))
        choice_field("aggregation", self.aggregation, AGGREGATION_RULES)
        put("aggregation_params", mapping_field("aggregation_params", self.aggregation_params))
        int_field("max_samples", self.max_samples, minimum=1)
        choice_field("reward_rule", self.reward_rule, REWARD_RULES)
        put("reward_params", mapping_field("reward_params", self.reward_params))
        choice_field("privacy", self.privacy, PRIVACY_MODES)
        if self.privacy == "secure" and self.aggregation not in _SUM_ONLY_RULES:
            raise ManifestError(
                "aggregation",
                f"{self.aggregation!r} needs individual updates; secure mode allows only "
                f"{list(_SUM_ONLY_RULES)}",
            )
        if self.privacy == "secure" and self.reward_rule != "samples":
            # Leave-one-out needs each update in clear; masked updates only sum.
            raise ManifestError(
                "reward_rule", f"{self.reward_rule!r} needs individual updates; secure mode "
                               f"allows only 'samples'")
        if self.dp is not None and not isinstance(self.dp, DpSettings):
            raise ManifestError("dp", f"must be DpSettings or None, got {type(self.dp).__name__}")
        if self.noise_shares > 1:
            self._check_distributed_dp()
        int_field("committee_size", self.committee_size, minimum=1)
        int_field("quorum", self.quorum, minimum=1)
        if self.quorum > self.committee_size:
            raise ManifestError("quorum", f"{self.quorum} exceeds committee_size {self.committee_size}")
        if 2 * self.quorum <= self.committee_size:
            # Two disjoint sub-quorums could otherwise finalize two different models.
            raise ManifestError("quorum", f"{self.quorum} is not a majority of {self.committee_size}")
        if not isinstance(self.phase_durations, PhaseDurations):
            raise ManifestError("phase_durations", "must be PhaseDurations")
        int_field("stake", self.stake, minimum=1)  # the chain refuses free stake
        int_field("seed", self.seed, minimum=0)
        if self.seed >= 2**63:
            raise ManifestError("seed", "must be below 2**63")
        if not isinstance(self.personalization, Personalization):
            raise ManifestError("personalization", "must be Personalization")
        if self.version != MANIFEST_VERSION:
            raise ManifestError("version", f"unsupported version {self.version!r}")

    @property
    def noise_shares(self) -> int:
        """The fewest updates a secure round's sum may be unmasked with (1 without
        distributed DP)."""
        return 1 if self.dp is None else self.dp.noise_shares

    def _check_distributed_dp(self) -> None:
        # The split noise adds up to the full noise only if the aggregate is exactly
        # lr * (sum of every participant's noised clipped-gradient sum) / (sum of rows):
        # one full-batch plain SGD step per round, summed under secure aggregation.
        needs = {
            "privacy": (self.privacy == "secure", "'secure': an update alone has a noise share"),
            "dp.level": (self.dp is not None and self.dp.level == "record", "'record'"),
            "local_epochs": (self.local_epochs == 1, "1"),
            "optimizer": (self.optimizer == "sgd", "'sgd'"),
            "batch_size": (self.batch_size >= self.max_samples,
                           f">= max_samples ({self.max_samples}): one full batch per round"),
        }
        for name, (ok, what) in needs.items():
            if not ok:
                raise ManifestError(name, f"must be {what} when dp.noise_shares > 1")

    # ---- canonical bytes -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict with every field (the canonical content)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "personalization" and value == Personalization():
                continue  # added after version 1: left out at its default (CIDs unchanged)
            if isinstance(value, (PhaseDurations, DpSettings, Personalization)):
                # Optional sub-fields at their default are left out: adding one must not
                # change the canonical bytes (and CIDs) of manifests that do not use it.
                value = {g.name: getattr(value, g.name) for g in fields(value)
                         if g.default is MISSING or getattr(value, g.name) != g.default}
            out[f.name] = thaw(value)
        return out

    def to_json_bytes(self) -> bytes:
        """Canonical JSON: sorted keys, no whitespace, ASCII, every field present."""
        return json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
        ).encode("ascii")

    @classmethod
    def from_dict(cls, data: Any) -> TaskManifest:
        """Builds and validates a manifest from parsed JSON.

        Raises:
            ManifestError: unknown or missing field, or a field that does not validate.
        """
        if not isinstance(data, Mapping):
            raise ManifestError("", f"manifest must be a JSON object, got {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ManifestError(str(key), "unknown field")
        kwargs = dict(data)
        if "phase_durations" in kwargs:
            kwargs["phase_durations"] = PhaseDurations(
                **sub_fields("phase_durations", PhaseDurations, kwargs["phase_durations"])
            )
        if kwargs.get("dp") is not None:
            kwargs["dp"] = DpSettings(**sub_fields("dp", DpSettings, kwargs["dp"]))
        if "personalization" in kwargs:
            kwargs["personalization"] = Personalization(
                **sub_fields("personalization", Personalization, kwargs["personalization"]))
        for f in fields(cls):
            if f.name not in kwargs and f.default is MISSING and f.default_factory is MISSING:
                raise ManifestError(f.name, "missing")
        return cls(**kwargs)

    @classmethod
    def from_json_bytes(cls, data: bytes) -> TaskManifest:
        """Parses manifest bytes (canonical or not) and validates them.

        Raises:
            ManifestError: not UTF-8 JSON, or any field invalid (named in the error).
        """
        try:
            parsed = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as err:
            raise ManifestError("", f"not a JSON document: {err}") from err
        return cls.from_dict(parsed)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} is not allowed")
