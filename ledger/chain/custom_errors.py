"""One Python exception class per Solidity custom error, and revert-data decoding.

Classes are made on first sight of an error in an ABI and cached by signature, so the same
``error Foo(uint256)`` declared in two contracts is one class, and
``custom_error("RevertProbeTooLarge")`` always returns the class a revert raises::

    with pytest.raises(custom_error("RevertProbeTooLarge")) as info:
        probe.transact("setValue", 10**9, sender=alice)
    assert info.value.x == 10**9

Lookups by bare name search every artifact in ``contracts/build`` the first time; when two
different signatures share a name, ask by full signature (``"Unauthorized(address)"``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from eth_typing import ABIError

from eth_abi.exceptions import DecodingError
from eth_utils import keccak
from eth_utils.abi import abi_to_signature

from ledger.chain.abi_values import decode_params, param_names
from ledger.chain.artifacts import iter_artifacts
from ledger.chain.errors import (
    ArtifactError,
    ContractCustomError,
    PanicError,
    RevertWithReason,
    TransactionReverted,
)

__all__ = [
    "ERROR_STRING_SELECTOR",
    "PANIC_SELECTOR",
    "custom_error",
    "decode_revert",
    "error_class_for_signature",
    "register_abi",
]

ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)

_lock = threading.RLock()
_by_signature: dict[str, type[ContractCustomError]] = {}
_by_selector: dict[bytes, type[ContractCustomError]] = {}
_inputs: dict[str, list[dict[str, Any]]] = {}
_artifacts_scanned = False


def _make_class(item: Mapping[str, Any]) -> type[ContractCustomError]:
    signature = abi_to_signature(cast("ABIError", dict(item)))
    selector = keccak(text=signature)[:4]
    namespace = {
        "error_name": item["name"],
        "signature": signature,
        "selector": selector,
        "param_names": tuple(param_names(item.get("inputs", []))),
        "__module__": __name__,
        "__qualname__": item["name"],
        "__doc__": f"Solidity custom error ``{signature}`` (selector 0x{selector.hex()}).",
    }
    return type(item["name"], (ContractCustomError,), namespace)


def register_abi(abi: Iterable[Mapping[str, Any]]) -> list[type[ContractCustomError]]:
    """Create (or find) the exception class of every custom error in ``abi``.

    Returns:
        The classes, in ABI order.
    """
    classes = []
    with _lock:
        for item in abi:
            if item.get("type") != "error":
                continue
            signature = abi_to_signature(cast("ABIError", dict(item)))
            cls = _by_signature.get(signature)
            if cls is None:
                cls = _make_class(item)
                _by_signature[signature] = cls
                _by_selector[cls.selector] = cls
                _inputs[signature] = [dict(p) for p in item.get("inputs", [])]
            classes.append(cls)
    return classes


def _scan_artifacts() -> None:
    global _artifacts_scanned
    with _lock:
        if not _artifacts_scanned:
            for artifact in iter_artifacts():
                register_abi(artifact.abi)
            _artifacts_scanned = True


def error_class_for_signature(signature: str) -> type[ContractCustomError]:
    """The class for an exact signature such as ``"RevertProbeTooLarge(uint256,address)"``.

    Raises:
        ArtifactError: no ABI seen so far (nor any artifact) declares it.
    """
    with _lock:
        if signature not in _by_signature:
            _scan_artifacts()
        try:
            return _by_signature[signature]
        except KeyError:
            raise ArtifactError(f"no artifact declares custom error {signature}") from None


def custom_error(name: str) -> type[ContractCustomError]:
    """The exception class of a custom error, by name or full signature.

    Raises:
        ArtifactError: unknown, or the bare name is ambiguous (several signatures).
    """
    if "(" in name:
        return error_class_for_signature(name)
    with _lock:
        matches = [c for c in _by_signature.values() if c.error_name == name]
        if not matches:
            _scan_artifacts()
            matches = [c for c in _by_signature.values() if c.error_name == name]
    if not matches:
        raise ArtifactError(f"no artifact declares a custom error named {name}")
    if len(matches) > 1:
        listed = ", ".join(sorted(c.signature for c in matches))
        raise ArtifactError(f"custom error name {name} is ambiguous: ask for one of {listed}")
    return matches[0]


def decode_revert(data: bytes, *, tx_hash: str | None = None) -> TransactionReverted:
    """Turn raw revert data into the most specific exception (returned, not raised).

    Error(string) -> RevertWithReason, Panic(uint256) -> PanicError, a known custom error
    selector -> its class; anything else (empty data, unknown selector, garbage) ->
    TransactionReverted carrying the raw bytes.
    """
    data = bytes(data)
    selector, payload = data[:4], data[4:]
    try:
        if selector == ERROR_STRING_SELECTOR:
            reason = decode_params([{"type": "string", "name": "reason"}], payload)["reason"]
            return RevertWithReason(reason, data=data, tx_hash=tx_hash)
        if selector == PANIC_SELECTOR:
            code = decode_params([{"type": "uint256", "name": "code"}], payload)["code"]
            return PanicError(code, data=data, tx_hash=tx_hash)
        with _lock:
            if len(data) >= 4 and selector not in _by_selector:
                _scan_artifacts()
            cls = _by_selector.get(selector)
        if cls is not None:
            args = decode_params(_inputs[cls.signature], payload)
            return cls(args, data=data, tx_hash=tx_hash)
    except DecodingError as err:
        return TransactionReverted(
            f"reverted with undecodable data 0x{data.hex()}: {err}", data=data, tx_hash=tx_hash
        )
    return TransactionReverted(data=data, tx_hash=tx_hash)
