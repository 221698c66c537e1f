"""``fedledger model export CID --format safetensors|onnx|torchscript -o FILE``: a global model in
a format other tools load, with a model card (Markdown) beside it.

The CID is looked up on chain (``locate_model``: which task and round finalized it), its bytes
are fetched from the store and checked against the CID, and the card is written from the
task's lineage (``node.audit.model_card``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from node.cli.errors import CliError
from node.cli.options import CommandGroup
from node.cli.workdir import add_reader_options, reading

if TYPE_CHECKING:
    from ledger.lineage_types import TaskLineage
    from ledger.manifest import TaskManifest
    from node.cli.workdir import Reader

__all__ = ["LocatedModel", "locate", "register"]

_FORMATS = ("safetensors", "onnx", "torchscript")


def register(subparsers: argparse._SubParsersAction) -> None:
    model = CommandGroup(subparsers, "model", "use a trained model outside fedledger")
    export = model.verb("export", "write a model as safetensors, ONNX or TorchScript, with a "
                                  "model card")
    export.add_argument("cid", help="a model CID (a finalized round's model or a genesis)")
    export.add_argument("--format", choices=_FORMATS, default="safetensors")
    export.add_argument("-o", "--output", required=True, metavar="FILE")
    export.add_argument("--card", default=None, metavar="FILE",
                        help="where the model card goes (default: FILE with suffix .md)")
    export.add_argument("--eval-data", default=None, metavar="CSV",
                        help="evaluate the model on these rows for the card's metrics")
    add_reader_options(export)
    export.set_defaults(func=_export)


@dataclass(frozen=True)
class LocatedModel:
    """A model CID with what the chain says of it."""

    cid: str
    task: int
    round: int
    manifest: TaskManifest
    lineage: TaskLineage
    data: bytes


def locate(reader: Reader, text: str) -> LocatedModel:
    """The task and round that made model ``text``, its manifest, lineage and bytes.

    Raises:
        InvalidCidError: not a CID.
        ModelNotFoundError: no task finalized it and none has it as genesis.
        ContentError: its bytes cannot be fetched or do not match the CID.
    """
    from ledger.cid import Cid
    from ledger.lineage import locate_model, read_lineage
    from ledger.task_view import load_task

    cid = Cid.parse(text)
    where = locate_model(reader.market, cid, from_block=reader.from_block)[0]
    view = load_task(reader.market, reader.store, where.task)
    lineage = read_lineage(reader.market, where.task, from_block=reader.from_block)
    return LocatedModel(str(cid), where.task, where.round, view.manifest, lineage,
                        reader.store.get(cid))


def _export(args: argparse.Namespace) -> int:
    from node.audit.evaluation import evaluate_model, load_eval_data
    from node.audit.model_card import model_card
    from node.learning.export import export_model

    output = Path(args.output)
    card = Path(args.card) if args.card else output.with_suffix(".md")
    if card == output:
        raise CliError(f"the model card would overwrite {output}: give --card FILE")
    with reading(args) as reader:
        found = locate(reader, args.cid)
        deployment = {"chain_id": reader.deployment.chain_id, "market": reader.deployment.market}
    export_model(found.manifest, found.data, args.format, output, metadata={
        "fedledger.model": found.cid, "fedledger.task": str(found.task),
        "fedledger.round": str(found.round)})
    metrics = None
    if args.eval_data:
        metrics = evaluate_model(found.manifest, found.data,
                                 load_eval_data(found.manifest, args.eval_data)).as_dict()
    card.write_text(model_card(found.manifest, found.lineage, found.round, found.cid,
                               deployment=deployment, files={args.format: output.name},
                               metrics=metrics, eval_rows=args.eval_data))
    print(f"wrote {output} ({args.format}) and {card}", file=sys.stderr)
    print(output)
    return 0
