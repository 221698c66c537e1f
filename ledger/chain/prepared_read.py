"""A view call prepared once and repeated cheaply: what a node reads every block.

web3's contract call path (argument validation, request middleware, result formatters) costs
about 7 ms of client CPU per call; nine node processes on two cores reading every block spend
most of a round there. A ``PreparedRead`` encodes the calldata once and each call is one raw
``eth_call`` decoded with ``eth_abi``: about 1 ms (``scripts/bench_round.py`` measures the
round). Anything unexpected (a revert, an RPC error, an undecodable reply) goes through the
ordinary ``Contract.call`` instead, so errors are raised exactly as there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3Exception

__all__ = ["PreparedRead"]

_ZERO = "0x" + "00" * 20  # msg.sender of a view, as in ``Contract.call``


class PreparedRead:
    """``fn_name(*args)`` on one contract, ready to call again and again (``latest`` block).

    Args:
        w3: the connection.
        address: the contract.
        calldata: the encoded call (``0x`` hex).
        output_types: the ABI types of the function's outputs.
        full_call: the ordinary call, for anything the fast path does not handle.
    """

    def __init__(self, w3: Web3, address: str, calldata: str, output_types: Sequence[str],
                 full_call: Callable[[], Any]) -> None:
        self._w3 = w3
        self._request = [{"from": _ZERO, "to": address, "data": calldata}, "latest"]
        self._types = list(output_types)
        self._full_call = full_call
        # Raw requests only over HTTP (anvil, a node): the in-process test chain validates
        # requests differently and needs no speed. Outputs holding an address also take the
        # full path, which checksums it (eth_abi decodes addresses in lower case).
        self._raw = isinstance(w3.provider, HTTPProvider) and not any(
            "address" in t for t in self._types)

    def __call__(self) -> tuple[Any, ...]:
        """The decoded outputs, in order (structs as tuples)."""
        if not self._raw:
            return self._full()
        try:
            reply = self._w3.provider.make_request("eth_call", self._request)  # type: ignore[arg-type]
            result = reply.get("result") if "error" not in reply else None
            if isinstance(result, str) and result.startswith("0x") and len(result) > 2:
                return tuple(decode(self._types, bytes.fromhex(result[2:])))
        except (OSError, ValueError, DecodingError, Web3Exception):
            pass  # the full call below raises the error the caller expects
        return self._full()

    def _full(self) -> tuple[Any, ...]:
        result = self._full_call()  # web3 unwraps a single output
        return (result,) if len(self._types) == 1 else tuple(result)
