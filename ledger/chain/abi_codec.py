"""ABI encoding and decoding of one contract's calls and logs, without web3's contract layer.

web3's contract path validates, normalizes and formats every argument and result through
several layers: about 3.6 ms of client CPU per view call and over 2 ms per decoded log, where
the ABI work itself (``eth_abi``) is a few hundred microseconds. Nine node processes on two
cores that read every block spend most of a round there (``scripts/bench_round.py``).

A ``ContractCodec`` does the same encoding and decoding with ``eth_abi`` and returns values
in web3's shapes (checksummed addresses, ``bytes``, lists for arrays and for several outputs,
tuples for structs), so callers cannot tell the paths apart; ``tests/ledger/test_abi_codec.py``
checks that against web3 on a live market. It only takes the shapes it can match exactly:
an overloaded name, an event with a struct or a dynamic indexed field, a filter on a field
that is not indexed, an argument ``eth_abi`` refuses, all answer ``None``/raise
``Unsupported`` and ``ledger.chain.contract.Contract`` goes through web3 instead, so errors
stay web3's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_abi.grammar import ABIType, TupleType, parse
from eth_utils import (
    event_abi_to_log_topic,
    function_abi_to_4byte_selector,
    get_abi_input_types,
    get_abi_output_types,
    to_checksum_address,
)

__all__ = ["ContractCodec", "EventCodec", "FunctionCodec", "Unsupported"]


# The same few addresses come back in every log and read; checksumming is a keccak each time.
_checksummed = lru_cache(maxsize=4096)(to_checksum_address)


class Unsupported(Exception):
    """The fast path cannot match web3 here: take web3's path."""


def _normalizer(type_str: str) -> Any:
    """A function turning ``eth_abi``'s decoding of ``type_str`` into web3's shape, or None
    when nothing needs changing (numbers, bools, bytes, strings)."""
    return _normalizer_of(parse(type_str))


def _normalizer_of(abi_type: ABIType) -> Any:
    if abi_type.is_array:
        item = _normalizer_of(abi_type.item_type)
        if item is None:
            return list
        return lambda values: [item(v) for v in values]
    if isinstance(abi_type, TupleType):
        parts = [_normalizer_of(c) for c in abi_type.components]
        if all(p is None for p in parts):
            return tuple
        return lambda values: tuple(v if p is None else p(v) for p, v in zip(parts, values,
                                                                              strict=True))
    if abi_type.to_type_str() == "address":
        return _checksummed
    return None


def _normalize_all(normalizers: Sequence[Any], values: Sequence[Any]) -> list[Any]:
    return [v if n is None else n(v) for n, v in zip(normalizers, values, strict=True)]


class FunctionCodec:
    """One function's calldata and outputs."""

    def __init__(self, abi: Mapping[str, Any]) -> None:
        self.name = str(abi["name"])
        self.selector = function_abi_to_4byte_selector(abi)  # type: ignore[arg-type]
        self.input_types = get_abi_input_types(abi)  # type: ignore[arg-type]
        self.output_types = get_abi_output_types(abi)  # type: ignore[arg-type]
        self._outputs = [_normalizer(t) for t in self.output_types]

    def encode(self, args: Sequence[Any]) -> str:
        """The calldata (``0x`` hex).

        Raises:
            Unsupported: ``eth_abi`` refuses the arguments as given (web3 may normalize
                them, or raises its own error).
        """
        if len(args) != len(self.input_types):
            raise Unsupported(f"{self.name} takes {len(self.input_types)} arguments")
        try:
            return "0x" + (self.selector + encode(self.input_types, list(args))).hex()
        except (EncodingError, TypeError, ValueError, OverflowError) as err:
            raise Unsupported(str(err)) from err

    def decode(self, result: bytes) -> Any:
        """The outputs as web3 returns them: one value, or a list of several.

        Raises:
            Unsupported: no outputs, or bytes that do not decode.
        """
        if not self.output_types:
            raise Unsupported(f"{self.name} returns nothing")
        try:
            values = _normalize_all(self._outputs, decode(self.output_types, result))
        except (DecodingError, ValueError, OverflowError) as err:
            raise Unsupported(str(err)) from err
        return values[0] if len(values) == 1 else values


_VALUE_TYPE_PREFIXES = ("uint", "int", "address", "bool", "bytes")


def _is_value_type(type_str: str) -> bool:
    """A type whose indexed topic is its own encoding (not a hash of it)."""
    if "[" in type_str or type_str.startswith("(") or type_str in ("bytes", "string"):
        return False
    return type_str.startswith(_VALUE_TYPE_PREFIXES)


class EventCodec:
    """One event's topics and decoding.

    Raises:
        Unsupported: (at construction) a struct field or a dynamic indexed field: web3 decodes
            those into shapes this codec does not reproduce.
    """

    def __init__(self, abi: Mapping[str, Any]) -> None:
        self.name = str(abi["name"])
        inputs = list(abi["inputs"])
        if any(str(i["type"]).startswith("tuple") for i in inputs):
            raise Unsupported(f"event {self.name} has a struct field")
        if any(i.get("indexed") and not _is_value_type(str(i["type"])) for i in inputs):
            raise Unsupported(f"event {self.name} has a dynamic indexed field")
        self.topic0 = "0x" + event_abi_to_log_topic(abi).hex()  # type: ignore[arg-type]
        self.order = [str(i["name"]) for i in inputs]
        self._indexed = [(str(i["name"]), str(i["type"])) for i in inputs if i.get("indexed")]
        self._data = [(str(i["name"]), str(i["type"])) for i in inputs if not i.get("indexed")]
        self._data_types = [t for _, t in self._data]
        self._normalize = {str(i["name"]): _normalizer(str(i["type"])) for i in inputs}

    def topics(self, filters: Mapping[str, Any]) -> list[Any]:
        """The ``eth_getLogs`` topics for equality ``filters`` on indexed fields (a list value
        means any of them).

        Raises:
            Unsupported: a filter on a field that is not indexed, or a value ``eth_abi``
                refuses.
        """
        indexed = dict(self._indexed)
        if set(filters) - set(indexed):
            raise Unsupported(f"event {self.name}: filter on a field that is not indexed")
        topics: list[Any] = [self.topic0]
        for name, type_str in self._indexed:
            value = filters.get(name)
            if value is None:
                topics.append(None)
            elif isinstance(value, list | tuple):
                topics.append([self._topic(type_str, v) for v in value])
            else:
                topics.append(self._topic(type_str, value))
        while topics[-1] is None:
            topics.pop()
        return topics

    @staticmethod
    def _topic(type_str: str, value: Any) -> str:
        try:
            return "0x" + encode([type_str], [value]).hex()
        except (EncodingError, TypeError, ValueError, OverflowError) as err:
            raise Unsupported(str(err)) from err

    def decode(self, log: Mapping[str, Any]) -> dict[str, Any]:
        """A raw ``eth_getLogs`` entry as ``Contract.events`` returns it.

        Raises:
            Unsupported: the log is not this event's, or does not decode.
        """
        topics = list(log["topics"])
        if not topics or topics[0] != self.topic0 or len(topics) != len(self._indexed) + 1:
            raise Unsupported(f"not a {self.name} log")
        try:
            values: dict[str, Any] = {}
            for (name, type_str), topic in zip(self._indexed, topics[1:], strict=True):
                [values[name]] = decode([type_str], bytes.fromhex(topic[2:]))
            data = decode(self._data_types, bytes.fromhex(str(log["data"])[2:]))
            values.update((name, v) for (name, _), v in zip(self._data, data, strict=True))
            args = {}
            for name in self.order:
                normalize = self._normalize[name]
                args[name] = values[name] if normalize is None else normalize(values[name])
            return {"event": self.name, "args": args,
                    "block_number": int(log["blockNumber"], 16),
                    "tx_hash": str(log["transactionHash"]).lower(),
                    "log_index": int(log["logIndex"], 16),
                    "address": _checksummed(log["address"])}
        except (DecodingError, ValueError, OverflowError, KeyError, TypeError) as err:
            raise Unsupported(str(err)) from err


class ContractCodec:
    """The codecs of every function and event of an ABI that the fast path can take."""

    def __init__(self, abi: Sequence[Mapping[str, Any]]) -> None:
        names = [str(e.get("name")) for e in abi if e.get("type") == "function"]
        self._functions = {str(e["name"]): FunctionCodec(e) for e in abi
                           if e.get("type") == "function" and names.count(str(e["name"])) == 1}
        self._events: dict[str, EventCodec] = {}
        events = [str(e.get("name")) for e in abi if e.get("type") == "event"]
        for entry in abi:
            if entry.get("type") != "event" or events.count(str(entry["name"])) != 1:
                continue
            try:
                self._events[str(entry["name"])] = EventCodec(entry)
            except Unsupported:
                continue  # web3 decodes it

    def function(self, name: str) -> FunctionCodec | None:
        """The function's codec (None: overloaded or unknown, take web3's path)."""
        return self._functions.get(name)

    def event(self, name: str) -> EventCodec | None:
        """The event's codec (None: take web3's path)."""
        return self._events.get(name)
