"""Row-wise feature encoding driven by a small, declared schema.

Why fixed transforms: a participant's features must depend on its own rows only, and
be bit-identical whether they are computed in the one-process simulator or in the
participant's own node process reading its own CSV. So nothing here is *fitted*: each
numeric column is ``(transform(x) - offset) / scale`` with ``transform`` in
``{"identity", "log1p"}`` and constants published in the schema (part of the task, like
the architecture), and each categorical column is one-hot over a vocabulary also
published in the schema. Every row is encoded on its own, so changing shop B's rows
cannot change shop A's features, and the feature width is the same for everyone (a
vocabulary learned from local data would give each participant a different model shape).
Unknown category values encode as all zeros; an unknown label is an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from node.errors import NodeError

__all__ = [
    "CategoricalColumn",
    "DataError",
    "DataSchema",
    "NumericColumn",
    "encode_features",
    "encode_rows",
]

_TRANSFORMS = ("identity", "log1p")


class DataError(NodeError):
    """A schema that does not validate, or rows that do not fit their schema."""


@dataclass(frozen=True)
class NumericColumn:
    """A numeric column encoded as ``(transform(x) - offset) / scale``.

    Raises:
        DataError: unknown transform or a scale that is not positive.
    """

    name: str
    transform: str = "identity"
    offset: float = 0.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.transform not in _TRANSFORMS:
            raise DataError(f"column {self.name!r}: transform must be one of {_TRANSFORMS}")
        if not float(self.scale) > 0.0:
            raise DataError(f"column {self.name!r}: scale must be > 0, got {self.scale}")


@dataclass(frozen=True)
class CategoricalColumn:
    """A categorical column one-hot encoded over a fixed vocabulary (one feature per value).

    Raises:
        DataError: empty or duplicated vocabulary.
    """

    name: str
    vocabulary: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "vocabulary", tuple(str(v) for v in self.vocabulary))
        if not self.vocabulary or len(set(self.vocabulary)) != len(self.vocabulary):
            raise DataError(f"column {self.name!r}: vocabulary must be non-empty and unique")


@dataclass(frozen=True)
class DataSchema:
    """Which columns become features, how, and which column is the label.

    Attributes:
        label: label column name.
        classes: label values in class-index order (two classes -> a binary task).
        numeric: numeric feature columns, in feature order.
        categorical: categorical feature columns, after the numeric ones.

    Raises:
        DataError: fewer than two classes, no feature columns, or a column used twice.
    """

    label: str
    classes: tuple[str, ...]
    numeric: tuple[NumericColumn, ...] = ()
    categorical: tuple[CategoricalColumn, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        object.__setattr__(self, "numeric", tuple(self.numeric))
        object.__setattr__(self, "categorical", tuple(self.categorical))
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise DataError("schema: classes must list at least two distinct label values")
        names = [self.label] + [c.name for c in self.numeric] + [c.name for c in self.categorical]
        if len(names) == 1:
            raise DataError("schema: no feature columns")
        if len(set(names)) != len(names):
            raise DataError("schema: a column is used twice")

    @property
    def n_features(self) -> int:
        return len(self.numeric) + sum(len(c.vocabulary) for c in self.categorical)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the schema reads (features and label)."""
        return (*(c.name for c in self.numeric), *(c.name for c in self.categorical), self.label)

    def to_mapping(self) -> dict[str, Any]:
        """The JSON form stored in a task manifest's ``data_schema``."""
        return {
            "label": self.label,
            "classes": list(self.classes),
            "numeric": [
                {"name": c.name, "transform": c.transform, "offset": float(c.offset),
                 "scale": float(c.scale)}
                for c in self.numeric
            ],
            "categorical": [{"name": c.name, "vocabulary": list(c.vocabulary)}
                            for c in self.categorical],
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DataSchema:
        """Parses the JSON form (see ``to_mapping``).

        Raises:
            DataError: missing keys or invalid values.
        """
        try:
            return cls(
                label=str(data["label"]),
                classes=tuple(data["classes"]),
                numeric=tuple(
                    NumericColumn(name=str(c["name"]), transform=c.get("transform", "identity"),
                                  offset=float(c.get("offset", 0.0)),
                                  scale=float(c.get("scale", 1.0)))
                    for c in data.get("numeric", ())
                ),
                categorical=tuple(
                    CategoricalColumn(name=str(c["name"]), vocabulary=tuple(c["vocabulary"]))
                    for c in data.get("categorical", ())
                ),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise DataError(f"schema does not parse: {err!r}") from err


def encode_features(header: Sequence[str], rows: Sequence[Sequence[str]],
                    schema: DataSchema) -> np.ndarray:
    """Encodes raw string rows into features (float32 [n, d]); the label column may be absent
    (rows to predict on).

    Each row is encoded independently with float64 arithmetic and cast to float32 once.

    Raises:
        DataError: a feature column missing from ``header``, a non-numeric or non-finite
            numeric cell.
    """
    index = {name: i for i, name in enumerate(header)}
    for name in schema.columns:
        if name not in index and name != schema.label:
            raise DataError(f"column {name!r} not in table (has {list(header)})")
    n = len(rows)
    features = np.zeros((n, schema.n_features), dtype=np.float64)
    col = 0
    for spec in schema.numeric:
        values = _numeric_cells(rows, index[spec.name], spec.name)
        if spec.transform == "log1p":
            if (values <= -1.0).any():
                raise DataError(f"column {spec.name!r}: log1p needs values > -1")
            values = np.log1p(values)
        features[:, col] = (values - float(spec.offset)) / float(spec.scale)
        col += 1
    for spec in schema.categorical:
        position = {value: k for k, value in enumerate(spec.vocabulary)}
        j = index[spec.name]
        for r, row in enumerate(rows):
            k = position.get(row[j].strip())
            if k is not None:
                features[r, col + k] = 1.0
        col += len(spec.vocabulary)
    return features.astype(np.float32)


def encode_rows(header: Sequence[str], rows: Sequence[Sequence[str]],
                schema: DataSchema) -> tuple[np.ndarray, np.ndarray]:
    """Encodes raw string rows into ``(features float32 [n, d], labels int64 [n])``.

    Raises:
        DataError: a schema column missing from ``header``, a non-numeric or non-finite
            numeric cell, or a label value not in ``schema.classes``.
    """
    features = encode_features(header, rows, schema)
    if schema.label not in header:
        raise DataError(f"column {schema.label!r} not in table (has {list(header)})")
    class_index = {value: k for k, value in enumerate(schema.classes)}
    j = list(header).index(schema.label)
    labels = np.empty(len(rows), dtype=np.int64)
    for r, row in enumerate(rows):
        k = class_index.get(row[j].strip())
        if k is None:
            raise DataError(f"row {r}: label {row[j]!r} not in classes {list(schema.classes)}")
        labels[r] = k
    return features, labels


def _numeric_cells(rows: Sequence[Sequence[str]], j: int, name: str) -> np.ndarray:
    try:
        values = np.array([float(row[j]) for row in rows], dtype=np.float64)
    except ValueError as err:
        raise DataError(f"column {name!r}: not a number ({err})") from err
    if not np.isfinite(values).all():
        raise DataError(f"column {name!r}: non-finite value")
    return values
