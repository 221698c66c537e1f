"""The registry of aggregation rules a task manifest can name.

A rule name picks an aggregator (how updates become one delta) and a server optimizer
(how that delta moves the model). Parameters come from the manifest as a flat mapping;
each key belongs to exactly one of the two, and unknown keys are an error so that a typo
in a manifest cannot silently change a round.

==============  ====================  ===============  ===============================
name            aggregator            server step      parameters
==============  ====================  ===============  ===============================
fedavg          FedAvg (streaming)    parent + delta   —
fedavgm         FedAvg (streaming)    ServerMomentum   lr, momentum
fedadam         FedAvg (streaming)    FedAdam          lr, beta1, beta2, tau
norm_clip       clipped FedAvg        parent + delta   max_norm (required)
median          coordinate median     parent + delta   —
trimmed_mean    trimmed mean          parent + delta   trim_fraction
krum            Krum                  parent + delta   byzantine
multikrum       Multi-Krum            parent + delta   byzantine, select
==============  ====================  ===============  ===============================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ledger.manifest import AGGREGATION_RULES
from node.aggregation.fedavg import AggregationRule, FedAvg, RuleParamsError
from node.aggregation.robust import (
    CoordinateMedian,
    Krum,
    MultiKrum,
    NormClippedFedAvg,
    TrimmedMean,
)
from node.aggregation.server_opt import FedAdam, PlainStep, ServerMomentum, ServerOptimizer

__all__ = ["RULE_NAMES", "RoundRule", "make_rule"]


@dataclass(frozen=True)
class RoundRule:
    """A configured rule: the aggregator and the server optimizer for one task."""

    name: str
    aggregator: AggregationRule
    optimizer: ServerOptimizer


@dataclass(frozen=True)
class _Entry:
    aggregator: Callable[..., AggregationRule]
    aggregator_keys: frozenset[str]
    optimizer: Callable[..., ServerOptimizer]
    optimizer_keys: frozenset[str]


def _entry(aggregator: Callable[..., AggregationRule], aggregator_keys: str,
           optimizer: Callable[..., ServerOptimizer], optimizer_keys: str) -> _Entry:
    return _Entry(aggregator, frozenset(aggregator_keys.split()), optimizer,
                  frozenset(optimizer_keys.split()))


_RULES: dict[str, _Entry] = {
    "fedavg": _entry(FedAvg, "", PlainStep, ""),
    "fedavgm": _entry(FedAvg, "", ServerMomentum, "lr momentum"),
    "fedadam": _entry(FedAvg, "", FedAdam, "lr beta1 beta2 tau"),
    "norm_clip": _entry(NormClippedFedAvg, "max_norm", PlainStep, ""),
    "median": _entry(CoordinateMedian, "", PlainStep, ""),
    "trimmed_mean": _entry(TrimmedMean, "trim_fraction", PlainStep, ""),
    "krum": _entry(Krum, "byzantine", PlainStep, ""),
    "multikrum": _entry(MultiKrum, "byzantine select", PlainStep, ""),
}

RULE_NAMES: tuple[str, ...] = AGGREGATION_RULES
"""The rule names: the manifest's list (``ledger.manifest.AGGREGATION_RULES``) is the only
one, so a manifest can never validate a rule no node implements, nor the reverse."""
if tuple(sorted(_RULES)) != RULE_NAMES:  # a rule added on one side only: fail on import
    raise RuntimeError(f"aggregation rules {sorted(_RULES)} differ from the manifest's "
                       f"{list(RULE_NAMES)}")


def make_rule(name: str, params: Mapping[str, object] | None = None) -> RoundRule:
    """Build the rule ``name`` with manifest ``params``.

    Args:
        name: one of :data:`RULE_NAMES`.
        params: the rule's parameters (see the table in the module docstring).

    Returns:
        The configured rule.

    Raises:
        RuleParamsError: unknown rule, unknown or missing parameters, values out of range.
    """
    entry = _RULES.get(name)
    if entry is None:
        raise RuleParamsError(f"unknown aggregation rule {name!r}; known: {list(RULE_NAMES)}")
    params = dict(params or {})
    unknown = sorted(set(params) - entry.aggregator_keys - entry.optimizer_keys)
    if unknown:
        raise RuleParamsError(f"rule {name!r} takes no parameters {unknown}")
    try:
        aggregator = entry.aggregator(
            **{k: v for k, v in params.items() if k in entry.aggregator_keys})
        optimizer = entry.optimizer(
            **{k: v for k, v in params.items() if k in entry.optimizer_keys})
    except TypeError as err:  # a required parameter is missing
        raise RuleParamsError(f"rule {name!r}: {err}") from err
    return RoundRule(name=name, aggregator=aggregator, optimizer=optimizer)
