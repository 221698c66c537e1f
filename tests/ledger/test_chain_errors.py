"""Revert decoding and the custom-error class registry, without a chain; artifact loading."""

from __future__ import annotations

import json
from pathlib import Path

import eth_abi
import pytest
from eth_utils import keccak

from ledger.chain import (
    Artifact,
    ArtifactError,
    ChainError,
    ContractCustomError,
    PanicError,
    RevertWithReason,
    TransactionReverted,
    custom_error,
    decode_revert,
    load_artifact,
    register_abi,
)
from ledger.errors import LedgerError

ALICE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _error_abi(name: str, *inputs: dict) -> dict:
    return {"type": "error", "name": name, "inputs": list(inputs)}


def _encode(signature: str, types: list[str], values: list) -> bytes:
    return keccak(text=signature)[:4] + eth_abi.encode(types, values)


def test_error_string_and_panic() -> None:
    err = decode_revert(_encode("Error(string)", ["string"], ["nope"]), tx_hash="0xab")
    assert type(err) is RevertWithReason and err.reason == "nope" and err.tx_hash == "0xab"
    assert str(err) == "reverted: 'nope' [tx 0xab]"
    panic = decode_revert(_encode("Panic(uint256)", ["uint256"], [0x11]))
    assert type(panic) is PanicError and panic.code == 0x11
    assert str(panic) == "panic 0x11: arithmetic overflow or underflow"


def test_unknown_empty_and_garbage_data() -> None:
    assert type(decode_revert(b"")) is TransactionReverted
    unknown = decode_revert(bytes.fromhex("deadbeef") + b"\x00" * 32)
    assert type(unknown) is TransactionReverted and unknown.data[:4].hex() == "deadbeef"
    truncated = decode_revert(_encode("Error(string)", ["string"], ["x"])[:10])
    assert type(truncated) is TransactionReverted and "undecodable" in str(truncated)


def test_struct_array_and_unnamed_arguments() -> None:
    [cls] = register_abi(
        [
            _error_abi(
                "ProbeShapes",
                {
                    "name": "pair",
                    "type": "tuple",
                    "components": [
                        {"name": "who", "type": "address"},
                        {"name": "n", "type": "uint8"},
                    ],
                },
                {"name": "", "type": "address[]"},
            )
        ]
    )
    assert cls.signature == "ProbeShapes((address,uint8),address[])"
    data = _encode(cls.signature, ["(address,uint8)", "address[]"], [(ALICE, 7), [ALICE]])
    err = decode_revert(data)
    assert type(err) is cls
    assert err.error_args == {"pair": (ALICE, 7), "arg1": [ALICE]}  # checksummed
    assert err.arg1 == [ALICE]
    with pytest.raises(AttributeError):
        _ = err.nothing_like_this


def test_same_signature_one_class_same_name_two_signatures_ambiguous() -> None:
    first = register_abi([_error_abi("ProbeTwice", {"name": "a", "type": "uint256"})])
    again = register_abi([_error_abi("ProbeTwice", {"name": "other", "type": "uint256"})])
    assert first == again  # parameter names do not change the signature
    register_abi([_error_abi("ProbeTwice", {"name": "a", "type": "address"})])
    with pytest.raises(ArtifactError, match="ambiguous"):
        custom_error("ProbeTwice")
    assert custom_error("ProbeTwice(uint256)") is first[0]
    assert custom_error("ProbeTwice(address)") is not first[0]


def test_unknown_custom_error_name() -> None:
    with pytest.raises(ArtifactError, match="NoSuchError"):
        custom_error("NoSuchError")


def test_tree_roots() -> None:
    cls = custom_error("RevertProbeTooLarge")
    for exc in (cls, RevertWithReason, PanicError):
        assert issubclass(exc, TransactionReverted)
    assert issubclass(ContractCustomError, ChainError) and issubclass(ChainError, LedgerError)


def test_load_artifact_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = load_artifact("RevertProbe")
    assert probe.name == "RevertProbe" and probe.compiler["version"].startswith("0.8.28")
    assert "contracts/test/RevertProbe.sol" in probe.source_hashes
    with pytest.raises(ArtifactError, match="scripts/compile.py"):
        load_artifact("NoSuchContract")
    with pytest.raises(ArtifactError, match="not a contract name"):
        load_artifact("../etc/passwd")
    monkeypatch.setenv("FEDLEDGER_ARTIFACTS", str(tmp_path))
    (tmp_path / "Broken.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="cannot read"):
        load_artifact("Broken")
    (tmp_path / "Partial.json").write_text(json.dumps({"abi": []}))
    with pytest.raises(ArtifactError, match="lacks bytecode"):
        load_artifact("Partial")


def test_linked_bytecode() -> None:
    artifact = Artifact(
        name="UsesLib",
        abi=[],
        bytecode="0x60" + "__$placeholder$__" * 2 + "zz" * 3 + "00",
        deployed_bytecode="0x",
        compiler={},
        settings={},
        source_hashes={},
        link_references={"contracts/L.sol": {"L": [{"start": 1, "length": 20}]}},
    )
    with pytest.raises(ArtifactError, match="links library L"):
        artifact.linked_bytecode()
    linked = artifact.linked_bytecode({"L": ALICE})
    assert linked == "0x60" + ALICE[2:].lower() + "00"
