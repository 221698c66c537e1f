"""Exceptions raised by ``ledger.chain``.

    LedgerError
    └── ChainError
        ├── RpcError                  transport failure talking to a node (names the URL)
        ├── AnvilNotFoundError        no anvil binary (names every path tried)
        ├── AnvilStartError           anvil exited or never became ready (log tail attached)
        ├── ArtifactError             missing or malformed contracts/build/<Name>.json
        ├── ContractUsageError        no such function/event, arguments that do not fit the ABI
        ├── UnsupportedOperation      a dev-only power (time travel, snapshots) on a real node
        └── TransactionReverted       a call or transaction reverted (.tx_hash, .data)
            ├── RevertWithReason      Error(string): ``require(cond, "msg")`` (.reason)
            ├── PanicError            Panic(uint256): assert, overflow, /0 ... (.code)
            └── ContractCustomError   any Solidity custom error (.error_name, .error_args)
                └── one class per error signature, e.g. RevertProbeTooLarge
                    (built from the artifacts' ABIs, see ``ledger.chain.custom_errors``)

A bare ``revert()``, an out-of-gas, or an unknown selector is a plain ``TransactionReverted``
with the raw ``data``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ledger.errors import LedgerError

__all__ = [
    "PANIC_REASONS",
    "AnvilNotFoundError",
    "AnvilStartError",
    "ArtifactError",
    "ChainError",
    "ContractCustomError",
    "ContractUsageError",
    "PanicError",
    "RevertWithReason",
    "RpcError",
    "TransactionReverted",
    "UnsupportedOperation",
]

# Solidity's Panic codes (docs: "Panic via assert and Error via require").
PANIC_REASONS: dict[int, str] = {
    0x00: "generic compiler panic",
    0x01: "assert failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "incorrectly encoded storage byte array",
    0x31: "pop() on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to a zero-initialized internal function",
}


class ChainError(LedgerError):
    """Base class of everything ``ledger.chain`` raises."""


class RpcError(ChainError):
    """The JSON-RPC endpoint could not be reached or answered nonsense.

    Attributes:
        url: the endpoint (or ``"py-evm"`` for the in-process chain).
    """

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(f"{message} (RPC endpoint {url})")
        self.url = url


class AnvilNotFoundError(ChainError):
    """No anvil binary was found.

    Attributes:
        tried: every location looked at, in order.
    """

    def __init__(self, tried: list[str]) -> None:
        listed = "\n  ".join(tried)
        super().__init__(f"anvil not found; tried:\n  {listed}\nrun `make setup`")
        self.tried = list(tried)


class AnvilStartError(ChainError):
    """anvil exited early or did not listen in time."""


class ArtifactError(ChainError):
    """A contract artifact is missing, malformed, or cannot be used as asked."""


class ContractUsageError(ChainError):
    """A contract was used against its ABI: unknown function or event, wrong arguments."""


class UnsupportedOperation(ChainError):
    """A development-only operation was asked of a backend that cannot do it."""


class TransactionReverted(ChainError):
    """A call or transaction reverted.

    Attributes:
        data: the raw revert data (empty for a bare ``revert()`` or out-of-gas).
        tx_hash: the hash of the mined transaction, or None when the revert happened
            during a call or gas estimation (nothing was mined).
    """

    def __init__(self, message: str = "", *, data: bytes = b"", tx_hash: str | None = None):
        text = message or (f"reverted with data 0x{data.hex()}" if data else "reverted")
        if tx_hash:
            text = f"{text} [tx {tx_hash}]"
        super().__init__(text)
        self.data = bytes(data)
        self.tx_hash = tx_hash


class RevertWithReason(TransactionReverted):
    """``Error(string)``: a ``require`` with a message, or ``revert("...")``.

    Attributes:
        reason: the message.
    """

    def __init__(self, reason: str, *, data: bytes = b"", tx_hash: str | None = None):
        super().__init__(f"reverted: {reason!r}", data=data, tx_hash=tx_hash)
        self.reason = reason


class PanicError(TransactionReverted):
    """``Panic(uint256)``: a failed assert, arithmetic overflow, division by zero, ...

    Attributes:
        code: the panic code (0x01 assert, 0x11 overflow, 0x12 division by zero, ...).
    """

    def __init__(self, code: int, *, data: bytes = b"", tx_hash: str | None = None):
        meaning = PANIC_REASONS.get(code, "unknown panic code")
        super().__init__(f"panic 0x{code:02x}: {meaning}", data=data, tx_hash=tx_hash)
        self.code = code


class ContractCustomError(TransactionReverted):
    """Base of every decoded Solidity custom error.

    Subclasses are generated, one per error signature (``ledger.chain.custom_errors``); catch
    a specific one with ``pytest.raises(custom_error("RevertProbeTooLarge"))``. Each argument
    is also an attribute: ``err.x``, ``err.who``.

    Attributes:
        error_name: the Solidity error name.
        error_args: the decoded arguments by parameter name, in declaration order.
    """

    error_name: ClassVar[str] = ""
    signature: ClassVar[str] = ""
    selector: ClassVar[bytes] = b""
    param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, error_args: Mapping[str, Any], *, data: bytes = b"", tx_hash: str | None = None
    ) -> None:
        self.error_args = dict(error_args)
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.error_args.items())
        super().__init__(f"{self.error_name}({shown})", data=data, tx_hash=tx_hash)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: expose each error argument as an attribute.
        args = self.__dict__.get("error_args")
        if args is not None and name in args:
            return args[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")


def _show(value: Any) -> str:
    """A short readable form of a decoded ABI value for messages."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, str) and not value.startswith("0x"):
        return repr(value)
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return str(value)
