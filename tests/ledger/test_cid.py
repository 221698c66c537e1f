"""Cid: parsing every spelling, canonical text, binary form, compact on-chain form."""

from __future__ import annotations

import hashlib

import pytest
from multiformats import CID, multihash

from ledger.cid import DAG_PB, RAW, Cid
from ledger.content_errors import ContentError, InvalidCidError
from ledger.errors import LedgerError
from tests.ledger.cid_vectors import HELLO_WORLD_V0, JS_IPFS_SPELLING, VECTORS

HELLO = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"


def test_hello_world_raw_cid_is_sha256_of_the_bytes() -> None:
    cid = Cid.parse(HELLO)

    assert cid.codec == RAW
    assert cid.digest == hashlib.sha256(b"hello world\n").digest()
    assert str(cid) == HELLO


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_canonical_text_round_trips_and_agrees_with_multiformats(name: str) -> None:
    text = VECTORS[name]

    cid = Cid.parse(text)

    assert str(cid) == text
    reference = CID.decode(text)  # an independent implementation
    assert cid.digest == reference.raw_digest
    assert cid.codec == reference.codec.code


@pytest.mark.parametrize("name", sorted(JS_IPFS_SPELLING))
def test_base58btc_v1_as_js_ipfs_answers_parses_to_the_canonical_value(name: str) -> None:
    assert str(Cid.parse(JS_IPFS_SPELLING[name])) == VECTORS[name]


def test_cidv0_parses_to_the_same_multihash_as_dag_pb_v1() -> None:
    cid = Cid.parse(HELLO_WORLD_V0)

    assert cid.codec == DAG_PB
    assert cid.digest == CID.decode(HELLO_WORLD_V0).raw_digest
    assert str(cid) == "bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby"
    assert str(cid) == str(CID.decode(HELLO_WORLD_V0).set(version=1, base="base32"))
    assert Cid.parse(str(cid)) == cid


def test_upper_case_base32_and_surrounding_whitespace_are_accepted() -> None:
    assert Cid.parse(" B" + HELLO[1:].upper() + "\n") == Cid.parse(HELLO)


def test_binary_form_round_trips_and_matches_multiformats() -> None:
    cid = Cid.parse(VECTORS["chunks_174_plus_1"])

    binary = cid.to_bytes()

    assert binary == bytes(CID.decode(VECTORS["chunks_174_plus_1"]))
    assert len(binary) == 36
    assert Cid.from_bytes(binary) == cid
    assert Cid.from_bytes(memoryview(bytearray(binary))) == cid


def test_binary_cidv0_is_a_bare_multihash() -> None:
    digest = Cid.parse(HELLO_WORLD_V0).digest

    assert Cid.from_bytes(b"\x12\x20" + digest) == Cid(DAG_PB, digest)


def test_compact_on_chain_form_rebuilds_the_same_cid() -> None:
    cid = Cid.parse(VECTORS["random_5mb"])

    digest32, codec = cid.digest, cid.codec

    assert len(digest32) == 32
    assert codec == 0x70
    assert Cid(codec, digest32) == cid


def test_cids_are_hashable_and_ordered_by_codec_then_digest() -> None:
    raw_a, raw_b = Cid(RAW, b"\x01" * 32), Cid(RAW, b"\x02" * 32)
    node = Cid(DAG_PB, b"\x00" * 32)

    assert sorted([node, raw_b, raw_a]) == [raw_a, raw_b, node]
    assert len({raw_a, Cid(RAW, b"\x01" * 32)}) == 1


def _other_cid(codec: str, hash_name: str) -> str:
    return str(CID("base32", 1, codec, multihash.digest(b"x", hash_name)))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "too short"),
        ("b", "too short"),
        ("mAXASIA", "unsupported multibase prefix 'm'"),
        ("bafkrei!!!", "not valid base32"),
        (HELLO[:-8], "expected 36 bytes, got 31"),
        ("z0OIl", "not valid base58btc"),
        (_other_cid("dag-cbor", "sha2-256"), "unsupported codec 0x71"),
        (_other_cid("raw", "sha2-512"), "multihash is not a 32-byte sha2-256"),
        (_other_cid("raw", "blake2b-256"), "multihash is not a 32-byte sha2-256"),
        ("zQmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", "bare multihash"),
        ("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5O", "not valid base58btc"),
    ],
)
def test_invalid_text_raises_invalid_cid_error_with_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidCidError) as info:
        Cid.parse(text)

    assert reason in info.value.reason
    assert info.value.value == text.strip()


def test_cid_v2_and_non_strings_are_rejected() -> None:
    v2 = b"\x02\x55\x12\x20" + b"\x00" * 32
    with pytest.raises(InvalidCidError, match="unsupported CID version 2"):
        Cid.from_bytes(v2)
    with pytest.raises(InvalidCidError, match="expected a string"):
        Cid.parse(b"bafk")  # type: ignore[arg-type]


def test_constructor_validates_codec_and_digest_length() -> None:
    with pytest.raises(InvalidCidError, match="unsupported codec 0x71"):
        Cid(0x71, b"\x00" * 32)
    with pytest.raises(InvalidCidError, match="digest must be 32 bytes"):
        Cid(RAW, b"\x00" * 31)


def test_invalid_cid_error_sits_under_content_and_ledger_errors() -> None:
    assert issubclass(InvalidCidError, ContentError)
    assert issubclass(InvalidCidError, LedgerError)
