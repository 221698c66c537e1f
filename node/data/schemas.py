"""Data schemas: the built-in data sets' published constants, and the schema a task's
manifest implies. Imports no torch: the requester and the CLI read these."""

from __future__ import annotations

from ledger.manifest import TaskManifest
from node.data.preprocess import CategoricalColumn, DataSchema, NumericColumn

__all__ = ["DIGITS_SCHEMA", "SHOPPERS_FILE", "SHOPPERS_SCHEMA", "schema_of"]

SHOPPERS_FILE = "online_shoppers_intention.csv"

# Fixed, published constants (part of the task, never fitted at run time): counts and
# durations are heavy-tailed, so log1p then centre/scale by round numbers close to the
# pooled public data's log1p mean/std; rates and SpecialDay are bounded and only scaled.
# Region is the natural partition column, so it is not a feature.
SHOPPERS_SCHEMA = DataSchema(
    label="Revenue",
    classes=("FALSE", "TRUE"),
    numeric=(
        NumericColumn("Administrative", "log1p", 0.8, 0.86),
        NumericColumn("Administrative_Duration", "log1p", 2.3, 2.4),
        NumericColumn("Informational", "log1p", 0.24, 0.5),
        NumericColumn("Informational_Duration", "log1p", 0.84, 1.8),
        NumericColumn("ProductRelated", "log1p", 2.9, 1.1),
        NumericColumn("ProductRelated_Duration", "log1p", 6.0, 2.0),
        NumericColumn("BounceRates", "identity", 0.022, 0.048),
        NumericColumn("ExitRates", "identity", 0.043, 0.049),
        NumericColumn("PageValues", "log1p", 0.62, 1.27),
        NumericColumn("SpecialDay", "identity", 0.061, 0.2),
    ),
    categorical=(
        CategoricalColumn("Month", ("Jan", "Feb", "Mar", "Apr", "May", "June", "Jul", "Aug",
                                    "Sep", "Oct", "Nov", "Dec")),
        CategoricalColumn("VisitorType", ("Returning_Visitor", "New_Visitor", "Other")),
        CategoricalColumn("Weekend", ("TRUE",)),
        CategoricalColumn("OperatingSystems", tuple(str(i) for i in range(1, 9))),
        CategoricalColumn("Browser", tuple(str(i) for i in range(1, 14))),
        CategoricalColumn("TrafficType", tuple(str(i) for i in range(1, 21))),
    ),
)

DIGITS_SCHEMA = DataSchema(
    label="digit",
    classes=tuple(str(d) for d in range(10)),
    numeric=tuple(NumericColumn(f"pixel_{i}", "identity", 0.0, 16.0) for i in range(64)),
)

_DEFAULTS = {"shoppers": SHOPPERS_SCHEMA, "digits": DIGITS_SCHEMA}


def schema_of(manifest: TaskManifest) -> DataSchema:
    """The manifest's own schema, else the built-in data set's default."""
    if manifest.data_schema is not None:
        return DataSchema.from_mapping(manifest.data_schema)
    return _DEFAULTS[manifest.dataset]
