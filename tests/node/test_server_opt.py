"""node.aggregation.server_opt and node.aggregation.rules: server steps with exact numbers, the rule registry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from node.aggregation.fedavg import RuleParamsError
from node.aggregation.rules import RULE_NAMES, make_rule
from node.aggregation.server_opt import (
    FedAdam,
    PlainStep,
    ServerMomentum,
    check_state_names,
)
from node.codec.model_file import split_state, state_layout
from node.codec.safetensors import LayoutMismatchError

LAYOUT = {"b": ((1,), "F32"), "w": ((2,), "F32")}


def _a(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def test_plain_step() -> None:
    new, state = PlainStep().step(_a(1, 1), _a(0.5, -2), {})
    assert new.tolist() == [1.5, -1.0] and state == {}
    new, _ = PlainStep(lr=0.5).step(_a(1, 1), _a(0.5, -2), {})
    assert new.tolist() == [1.25, 0.0]


def test_server_momentum_two_rounds_exact() -> None:
    opt = ServerMomentum(lr=1.0, momentum=0.5)
    new, state = opt.step(_a(1, 1), _a(1, -2), {"momentum": _a(0, 0)})
    assert new.tolist() == [2.0, -1.0]
    assert state["momentum"].tolist() == [1.0, -2.0]
    new, state = opt.step(new, _a(1, 0), state)
    # v = 0.5 * [1, -2] + [1, 0] = [1.5, -1]
    assert state["momentum"].tolist() == [1.5, -1.0]
    assert new.tolist() == [3.5, -2.0]


def test_fedadam_two_rounds_exact() -> None:
    opt = FedAdam(lr=0.5, beta1=0.5, beta2=0.75, tau=1.0)
    new, state = opt.step(_a(1, 1), _a(2, -2), {"m": _a(0, 0), "v": _a(0, 0)})
    # m = [1, -1], v = [1, 1], step = 0.5 * m / (1 + 1)
    assert state["m"].tolist() == [1.0, -1.0] and state["v"].tolist() == [1.0, 1.0]
    assert new.tolist() == [1.25, 0.75]
    new, state = opt.step(new, _a(0, 0), state)
    # m = [0.5, -0.5], v = [0.75, 0.75]
    step = 0.5 * 0.5 / (math.sqrt(0.75) + 1.0)
    assert state["m"].tolist() == [0.5, -0.5] and state["v"].tolist() == [0.75, 0.75]
    assert new.tolist() == [1.25 + step, 0.75 - step]


def test_state_names_and_split() -> None:
    assert state_layout(LAYOUT, ("m",)) == {"server_opt/m/b": ((1,), "F32"),
                                            "server_opt/m/w": ((2,), "F32")}
    weights, state = split_state({"w": 1, "server_opt/m/w": 2})
    assert weights == {"w": 1} and state == {"server_opt/m/w": 2}
    assert check_state_names({}, LAYOUT, ("m",)) is False
    assert check_state_names(state_layout(LAYOUT, ("m",)), LAYOUT, ("m",)) is True
    with pytest.raises(LayoutMismatchError):
        check_state_names({"server_opt/m/w": 0}, LAYOUT, ("m",))


def test_registry_builds_every_rule() -> None:
    assert RULE_NAMES == ("fedadam", "fedavg", "fedavgm", "krum", "median", "multikrum",
                          "norm_clip", "trimmed_mean")
    params = {"norm_clip": {"max_norm": 1.0}}
    for name in RULE_NAMES:
        rule = make_rule(name, params.get(name))
        assert rule.name == name
    assert make_rule("fedadam", {"lr": 0.1, "tau": 0.01}).optimizer.lr == 0.1
    assert make_rule("multikrum", {"byzantine": 2, "select": 3}).aggregator.select == 3


def test_registry_rejects_bad_input() -> None:
    with pytest.raises(RuleParamsError, match="unknown aggregation rule"):
        make_rule("bulyan")
    with pytest.raises(RuleParamsError, match="takes no parameters"):
        make_rule("fedavg", {"lr": 1.0})
    with pytest.raises(RuleParamsError, match="max_norm"):
        make_rule("norm_clip")
    with pytest.raises(RuleParamsError):
        make_rule("fedavgm", {"momentum": 1.5})
    with pytest.raises(RuleParamsError):
        make_rule("krum", {"byzantine": -1})
