"""Field checks for canonical JSON documents (task manifests): each raises
:class:`ManifestError` naming the first bad field.

Values are frozen on the way in (mappings become read-only, lists tuples), so a parsed
manifest cannot be mutated behind its CID, and thawed on the way out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import MISSING, fields
from types import MappingProxyType
from typing import Any

from ledger.errors import LedgerError

__all__ = ["ManifestError", "check_json_value", "choice_field", "float_field", "freeze",
           "int_field", "mapping_field", "sub_fields", "thaw"]


class ManifestError(LedgerError):
    """A task manifest that does not parse or validate.

    Attributes:
        field: dotted name of the offending field (``""`` for the document itself).
    """

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        super().__init__(f"manifest field {field_name!r}: {message}" if field_name else message)


def freeze(value: Any) -> Any:
    """Deep-freezes JSON values so a frozen manifest is immutable all the way down."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(value[k]) for k in sorted(value)})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def check_json_value(name: str, value: Any) -> None:
    """JSON-representable with finite floats only, so the canonical bytes exist."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ManifestError(name, f"keys must be strings, got {key!r}")
            check_json_value(f"{name}.{key}", item)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_json_value(f"{name}[{i}]", item)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ManifestError(name, "must be finite")
    elif value is not None and not isinstance(value, (str, int, bool)):
        raise ManifestError(name, f"not a JSON value: {type(value).__name__}")


def int_field(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ManifestError(name, f"must be an integer, got {value!r}")
    if value < minimum:
        raise ManifestError(name, f"must be >= {minimum}, got {value}")
    return value


def float_field(name: str, value: Any, *, minimum: float, maximum: float = math.inf,
           open_min: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ManifestError(name, f"must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ManifestError(name, "must be finite")
    if out < minimum or (open_min and out == minimum) or out > maximum:
        low = "(" if open_min else "["
        raise ManifestError(name, f"must be in {low}{minimum}, {maximum}], got {out}")
    return out


def choice_field(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ManifestError(name, f"must be one of {list(allowed)}, got {value!r}")
    return value


def mapping_field(name: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ManifestError(name, f"must be an object, got {type(value).__name__}")
    check_json_value(name, value)
    return freeze(value)


def sub_fields(name: str, cls: type, data: Any) -> dict[str, Any]:
    """Checks that a nested object has exactly the fields of ``cls``."""
    if not isinstance(data, Mapping):
        raise ManifestError(name, f"must be an object, got {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    for key in data:
        if key not in names:
            raise ManifestError(f"{name}.{key}", "unknown field")
    optional = {f.name for f in fields(cls) if f.default is not MISSING}
    for key in sorted(names - optional):
        if key not in data:
            raise ManifestError(f"{name}.{key}", "missing")
    return dict(data)
