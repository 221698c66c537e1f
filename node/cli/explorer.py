"""``fedledger explorer``: a local, read-only web app that follows the deployment live.

    fedledger explorer --workdir demo-work            # a demo (live, or its saved chain)
    fedledger explorer --deployment d.json --rpc URL --ipfs URL --port 8545

Serves on 127.0.0.1 until Ctrl-C. With ``--eval-data CSV`` (default for a demo work
directory: the shops' held-out rows) every finalized model is evaluated and plotted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from node.cli.workdir import add_reader_options

__all__ = ["eval_data_of", "register", "serve_finished_demo", "serve_until_interrupted"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("explorer", help="serve a live, read-only web view of the tasks, "
                                               "their lineage and rewards on 127.0.0.1")
    add_reader_options(p)
    p.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    p.add_argument("--eval-data", metavar="CSV", default=None,
                   help="evaluate each finalized model on these rows (default with --workdir: "
                        "the demo's held-out rows)")
    p.set_defaults(func=_main)


def eval_data_of(args: argparse.Namespace) -> Path | None:
    """``--eval-data``, else a demo's held-out rows when they exist."""
    from node.demo.run import HELD_OUT_FILE

    if args.eval_data:
        return Path(args.eval_data)
    held_out = Path(args.workdir) / HELD_OUT_FILE if args.workdir else None
    return held_out if held_out is not None and held_out.is_file() else None


def serve_until_interrupted(explorer, *, note: str = "serving") -> None:
    """Print the URL and serve (the server runs in its own thread) until Ctrl-C."""
    print(f"explorer: {explorer.url}  ({note}; Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("explorer stopped", file=sys.stderr)


def serve_finished_demo(explorer, workdir: Path) -> None:
    """Move a demo's live explorer onto the demo's saved chain (its own chain has stopped)
    and the requester's IPFS node while the swarm runs, then serve until Ctrl-C."""
    from node.cli.app import build_parser
    from node.cli.options import finish
    from node.cli.workdir import reading
    from node.explorer.server import csv_evaluator

    args = build_parser().parse_args(["explorer", "--workdir", str(workdir)])
    finish(args)
    with reading(args) as reader:
        data = eval_data_of(args)
        explorer.follow(reader.market, reader.store, from_block=reader.from_block,
                        evaluator=csv_evaluator(reader.market, reader.store, data) if data
                        else None)
        serve_until_interrupted(explorer, note="serving the finished task")


def _main(args: argparse.Namespace) -> int:
    from node.cli.workdir import reading
    from node.explorer.server import Explorer, csv_evaluator

    with reading(args) as reader:
        data = eval_data_of(args)
        evaluator = csv_evaluator(reader.market, reader.store, data) if data else None
        with Explorer(reader.market, reader.store, port=args.port, from_block=reader.from_block,
                      evaluator=evaluator, eval_source=data.name if data else None) as explorer:
            serve_until_interrupted(explorer)
    return 0
