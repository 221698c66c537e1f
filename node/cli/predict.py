"""``fedledger predict CID --data CSV``: propensity scores per row of a CSV, with the task's
schema applied (the label column may be absent). Prints CSV (``row,propensity``) or
``--json``."""

from __future__ import annotations

import argparse
import json

from node.cli.workdir import add_reader_options, reading

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("predict", help="score rows of a CSV with a trained model")
    p.add_argument("cid", help="a model CID")
    p.add_argument("--data", required=True, metavar="CSV")
    p.add_argument("--json", action="store_true", help="one JSON document instead of CSV lines")
    add_reader_options(p)
    p.set_defaults(func=_predict)


def _predict(args: argparse.Namespace) -> int:
    from node.cli.model import locate
    from node.data.datasets import read_csv_table
    from node.data.schemas import schema_of
    from node.learning.export import predict_rows

    table = read_csv_table(args.data)
    with reading(args) as reader:
        found = locate(reader, args.cid)
    scores = predict_rows(found.manifest, schema_of(found.manifest), found.data,
                          table.header, table.rows)
    if args.json:
        print(json.dumps({"model": found.cid, "task": found.task, "round": found.round,
                          "rows": len(table), "propensity": scores.tolist()}))
        return 0
    print("row,propensity" if scores.dim() == 1 else
          "row," + ",".join(f"class_{k}" for k in range(scores.shape[1])))
    for i, value in enumerate(scores.tolist()):
        cells = [value] if scores.dim() == 1 else value
        print(f"{i}," + ",".join(f"{v:.6f}" for v in cells))
    return 0
