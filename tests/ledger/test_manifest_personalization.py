"""The manifest's ``personalization`` section: absent at its default (old CIDs hold), exact
bytes when set, one named error per bad field."""

from __future__ import annotations

import pytest

from ledger.manifest import ManifestError, Personalization, TaskManifest
from tests.ledger.test_manifest import EXPECTED_BYTES, _manifest


def test_the_default_is_left_out_of_the_canonical_bytes():
    manifest = _manifest()
    assert manifest.personalization == Personalization("finetune", 3, 0.2, 1.0, 0.5)
    assert manifest.to_json_bytes() == EXPECTED_BYTES
    assert "personalization" not in manifest.to_dict()


def test_a_set_section_writes_only_what_differs_and_round_trips():
    manifest = _manifest(personalization=Personalization(mode="mix", mix=0.25))
    data = manifest.to_json_bytes()
    assert b'"personalization":{"mix":0.25,"mode":"mix"}' in data
    again = TaskManifest.from_json_bytes(data)
    assert again == manifest and again.to_json_bytes() == data
    # Spelling the default out parses to the default (and so to the old bytes).
    spelled = data.replace(b'{"mix":0.25,"mode":"mix"}', b'{"mode":"finetune","epochs":3}')
    assert TaskManifest.from_json_bytes(spelled).to_json_bytes() == EXPECTED_BYTES


@pytest.mark.parametrize(("section", "field"), [
    ({"mode": "retrain"}, "personalization.mode"),
    ({"epochs": 0}, "personalization.epochs"),
    ({"lr_scale": 0}, "personalization.lr_scale"),
    ({"proximal_mu": -1}, "personalization.proximal_mu"),
    ({"mix": 1.5}, "personalization.mix"),
    ({"rounds": 2}, "personalization.rounds"),
    ([], "personalization"),
])
def test_bad_sections_name_their_field(section, field):
    data = _manifest().to_dict()
    data["personalization"] = section
    with pytest.raises(ManifestError) as err:
        TaskManifest.from_dict(data)
    assert err.value.field == field
