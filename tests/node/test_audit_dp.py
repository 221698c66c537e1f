"""The replay's DP-claim check (node.audit.dp_claims): an honest claim passes, a forged one fails."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import numpy as np

from ledger.audit_report import Check
from ledger.manifest import DpSettings
from ledger.unixfs import cid_of
from node.audit.dp_claims import check_dp_claims, expected_claim
from node.codec.flat import unflatten
from node.codec.safetensors import encode_tensors, expected_layout
from node.learning.dp_sgd import record_epsilon
from node.learning.task import model_of
from node.privacy.dp import DpReport, dp_metadata, epsilon_spent
from node.requester.presets import preset_manifest
from node.runtime.private_update import private_payload

PARTICIPANT = preset_manifest("digits", dp=DpSettings(1.0, 1.3, 1e-5))
RECORD = preset_manifest("digits", dp=DpSettings(1.0, 1.3, 1e-5, level="record"))


def test_expected_claim_is_what_an_honest_node_writes() -> None:
    assert expected_claim(PARTICIPANT, rounds=3, num_samples=99) == dp_metadata(
        epsilon=epsilon_spent(1.3, 3, 1e-5), delta=1e-5, clip=1.0, noise=1.3, rounds=3)
    record = expected_claim(RECORD, rounds=2, num_samples=143)
    assert record["fedledger.dp.epsilon"] == repr(record_epsilon(
        1.3, n_local=143, batch_size=16, epochs=10, rounds=2, delta=1e-5))
    report = DpReport(clip=1.0, noise=1.3, delta=1e-5, rounds=2, norm=0.0, epsilon=float(
        record["fedledger.dp.epsilon"]))
    assert report.metadata() == record


class _Report:
    def __init__(self, manifest) -> None:
        self.manifest = manifest
        self.lineage = SimpleNamespace(task=4)
        self.round_info: dict = {}
        self.checks: list[Check] = []

    def add(self, name, ok, where, detail, round_=None) -> Check:
        self.checks.append(Check(name, ok, where, detail, round_))
        return self.checks[-1]


def _file(metadata: dict[str, str]) -> bytes:
    layout = expected_layout(model_of(PARTICIPANT))
    size = sum(int(np.prod(shape)) for shape, _ in layout.values())
    return encode_tensors(unflatten(np.zeros(size, dtype=np.float32), layout), metadata)


def test_an_understated_epsilon_fails_and_names_the_participant() -> None:
    honest = _file(private_payload(PARTICIPANT, _file({}), 50, task=4, round_index=1,
                                   own="0x" + "11" * 20, secret=b"k" * 32,
                                   rounds_before=0)[1].metadata())
    claim = expected_claim(PARTICIPANT, rounds=1, num_samples=50)
    forged = _file({**claim, "fedledger.dp.epsilon": "0.1"})
    store = {cid_of(honest): honest, cid_of(forged): forged}
    r = SimpleNamespace(round=1, updates=[
        SimpleNamespace(participant="0xA", cid=cid_of(honest), num_samples=50),
        SimpleNamespace(participant="0xB", cid=cid_of(forged), num_samples=50),
        SimpleNamespace(participant="0xC", cid=cid_of(b"garbage"), num_samples=50)])
    report = _Report(PARTICIPANT)
    submitted: Counter[str] = Counter()
    check_dp_claims(report, SimpleNamespace(get=store.__getitem__), r, {"0xC"}, submitted)
    assert [(c.ok, c.where.split()[-1]) for c in report.checks] == [(True, "0xA"),
                                                                     (False, "0xB")]
    assert "manifest and chain give" in report.checks[1].detail
    assert report.round_info[1]["dp"] == [
        ["0xA", claim["fedledger.dp.epsilon"], "1e-05", "1"], ["0xB", "0.1", "1e-05", "1"]]
    assert submitted == {"0xa": 1, "0xb": 1, "0xc": 1}
