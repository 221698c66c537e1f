"""``fedledger audit <model-cid | task-id>``: verify a model's lineage from the chain and the store.

    fedledger audit bafkrei... --deployment deployment.json --store ./store
    fedledger audit 1 --workdir demo/ --replay --html audit.html
    fedledger audit 1 --rpc http://127.0.0.1:8545 --ipfs http://127.0.0.1:5001 --json

``--workdir DIR`` is a ``fedledger demo`` directory (``node.cli.workdir``: its live chain, or
anvil on a copy of the saved state; for a ``--ipfs-per-node`` demo, the requester's IPFS node,
so every update and model comes by bitswap from the nodes that pinned it). Exit code 0 only
when every check passes; 1 when a check fails or the audit cannot be made (what and where is
printed).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from node.cli.errors import CliError, UsageError
from node.cli.workdir import add_reader_options, reading

if TYPE_CHECKING:
    from ledger.audit import AuditReport

__all__ = ["register", "run_audit"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "audit", help="verify a model's lineage back to genesis (exit 0 only if all checks pass)")
    p.add_argument("target", help="a model CID, or a task id (audits its last finalized model)")
    add_reader_options(p)
    p.add_argument("--replay", action="store_true",
                   help="recompute every round and require bit-identical model CIDs and roots")
    p.add_argument("--eval-data", metavar="CSV", default=None,
                   help="with --replay: evaluate every round's model on this CSV")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--html", metavar="FILE", default=None, help="write a self-contained HTML page")
    p.set_defaults(func=_main)


def run_audit(args: argparse.Namespace) -> AuditReport:
    """Make the audit the arguments ask for.

    Raises:
        LedgerError: no deployment, chain or store to audit against, or an unknown target.
        NodeError: the replay's evaluation data cannot be read; no store directory.
    """
    from ledger.audit import ArtifactCache, audit_model, audit_task
    from ledger.cid import Cid

    with reading(args) as reader:
        store, market, from_block = ArtifactCache(reader.store), reader.market, reader.from_block
        deployment, w3 = reader.deployment, reader.market.w3
        if args.target.isdigit():
            report = audit_task(market, store, int(args.target), from_block=from_block)
        else:
            report = audit_model(market, store, Cid.parse(args.target), from_block=from_block)
        if args.replay:
            from node.audit.replay import replay_report  # torch only when replaying

            secure = None
            if deployment.seed_reveals and report.manifest is not None \
                    and report.manifest.privacy == "secure":
                from node.runtime.secure_participant import secure_inputs_reader

                secure = secure_inputs_reader(market, deployment.seed_reveals_at(w3),
                                              report.lineage.task, from_block=from_block)
            replay_report(report, store, eval_data=args.eval_data, secure=secure)
    return report


def _main(args: argparse.Namespace) -> int:
    from ledger.errors import LedgerError
    from node.audit.text import render_json, render_tree
    from node.errors import NodeError

    if args.eval_data and not args.replay:
        raise UsageError("--eval-data needs --replay")
    try:
        report = run_audit(args)
    except (LedgerError, NodeError) as err:
        message = f"audit of {args.target} could not be made: {type(err).__name__}: {err}"
        if args.json:  # scripts read stdout: say it there too
            print(json.dumps({"ok": False, "target": args.target, "error": message}))
        raise CliError(message) from err
    print(render_json(report) if args.json else render_tree(report))
    if args.html:
        from node.audit.html import write_html

        written = write_html(report, args.html)
        print(f"wrote {written}", file=sys.stderr)
    return 0 if report.ok else 1
