"""A view call prepared once and repeated cheaply: what a node reads every block.

web3's contract call path (argument validation, request middleware, result formatters) costs
about 3.6 ms of client CPU per call; nine node processes on two cores reading every block spend
most of a round there. A ``PreparedRead`` encodes the calldata once and each call is one raw
``eth_call`` decoded with ``ledger.chain.abi_codec``: about 0.7 ms (``scripts/bench_round.py``
measures the round). Anything unexpected (a revert, an RPC error, an undecodable reply) goes
through the ordinary ``Contract.call`` instead, so errors are raised exactly as there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web3 import Web3

from ledger.chain.abi_codec import FunctionCodec, Unsupported
from ledger.chain.raw_rpc import raw_result

__all__ = ["PreparedRead", "raw_call"]

_ZERO = "0x" + "00" * 20  # msg.sender of a view, as in ``Contract.call``


def raw_call(w3: Web3, request: list[Any], codec: FunctionCodec) -> tuple[bool, Any]:
    """``eth_call`` sent raw and decoded by ``codec``: (True, outputs as web3 returns them),
    or (False, None) when the caller must take web3's path (a revert, an error, no reply)."""
    result = raw_result(w3, "eth_call", request)
    if isinstance(result, str) and result.startswith("0x") and len(result) > 2:
        try:
            return True, codec.decode(bytes.fromhex(result[2:]))
        except (Unsupported, ValueError):
            pass
    return False, None


class PreparedRead:
    """``fn_name(*args)`` on one contract, ready to call again and again (``latest`` block).

    Args:
        w3: the connection.
        address: the contract.
        calldata: the encoded call (``0x`` hex).
        outputs: how many outputs the function has.
        codec: the function's codec (None: always the full call).
        full_call: the ordinary call, for anything the fast path does not handle.
    """

    def __init__(self, w3: Web3, address: str, calldata: str, outputs: int,
                 codec: FunctionCodec | None, full_call: Callable[[], Any]) -> None:
        self._w3 = w3
        self._single = outputs == 1  # web3 (and the codec) unwrap a single output
        self._request = [{"from": _ZERO, "to": address, "data": calldata}, "latest"]
        self._codec = codec
        self._full_call = full_call

    def __call__(self) -> tuple[Any, ...]:
        """The decoded outputs, in order (structs as tuples)."""
        if self._codec is not None:
            done, outputs = raw_call(self._w3, self._request, self._codec)
            if done:
                return self._shaped(outputs)
        return self._shaped(self._full_call())  # raises the error the caller expects

    def _shaped(self, result: Any) -> tuple[Any, ...]:
        return (result,) if self._single else tuple(result)
