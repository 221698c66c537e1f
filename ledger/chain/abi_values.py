"""Decoding ABI values into the Python forms the rest of ``ledger`` uses.

eth-abi returns addresses in lower case; everything leaving ``ledger.chain`` uses checksum
addresses (normalize at the boundary), so decoded values are walked once with their ABI
description and addresses are checksummed, arrays become lists, structs tuples.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import eth_abi
from eth_utils import to_checksum_address
from eth_utils.abi import collapse_if_tuple

__all__ = ["decode_params", "normalize_value", "param_names"]

_ARRAY_SUFFIX = re.compile(r"\[\d*\]$")


def param_names(inputs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Parameter names, with ``argN`` for the unnamed ones (Solidity allows those)."""
    return [p.get("name") or f"arg{i}" for i, p in enumerate(inputs)]


def normalize_value(param: Mapping[str, Any], value: Any) -> Any:
    """Checksum addresses, inside arrays and structs too; lists for arrays.

    Args:
        param: the ABI parameter description (``type``, optional ``components``).
        value: what eth-abi decoded for it.
    """
    abi_type = param["type"]
    if _ARRAY_SUFFIX.search(abi_type):
        inner = {**param, "type": _ARRAY_SUFFIX.sub("", abi_type, count=1)}
        return [normalize_value(inner, v) for v in value]
    if abi_type == "tuple":
        return tuple(normalize_value(c, v) for c, v in zip(param["components"], value, strict=True))
    if abi_type == "address":
        return to_checksum_address(value)
    return value


def decode_params(inputs: Sequence[Mapping[str, Any]], payload: bytes) -> dict[str, Any]:
    """Decode ABI-encoded ``payload`` into an ordered dict by parameter name.

    Raises:
        eth_abi.exceptions.DecodingError: ``payload`` does not match the types.
    """
    types = [collapse_if_tuple(dict(p)) for p in inputs]
    values = eth_abi.decode(types, payload)
    return {
        name: normalize_value(p, v)
        for name, p, v in zip(param_names(inputs), inputs, values, strict=True)
    }
