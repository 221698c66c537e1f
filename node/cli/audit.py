"""``fedledger audit <model-cid | task-id>``: verify a model's lineage from the chain and the store.

    fedledger audit bafkrei... --deployment deployment.json --store ./store
    fedledger audit 1 --workdir demo/ --replay --html audit.html
    fedledger audit 1 --rpc http://127.0.0.1:8545 --ipfs http://127.0.0.1:5001 --json

``--workdir DIR`` is a ``fedledger demo`` directory (``deployment.json``, ``store/``,
``chain-state.json``): anvil is started on a copy of the saved chain state and stopped
afterwards. A ``--ipfs-per-node`` demo keeps its content in one IPFS repo per participant
(``ipfs/<name>/``): the audit starts those nodes (peered on 127.0.0.1) and reads through the
requester's alone, so every update and model comes by bitswap from the nodes that pinned it. Exit code 0 only when every check passes; 1 when
a check fails or the audit cannot be made (what and where is printed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from node.cli.errors import CliError, UsageError
from node.cli.options import LEDGER, add_options, content_store

if TYPE_CHECKING:
    from ledger.audit import AuditReport
    from ledger.deployment import Deployment
    from ledger.store import ContentStore

__all__ = ["CHAIN_STATE_FILE", "DEPLOYMENT_FILE", "register", "run_audit"]

DEPLOYMENT_FILE = "deployment.json"
CHAIN_STATE_FILE = "chain-state.json"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "audit", help="verify a model's lineage back to genesis (exit 0 only if all checks pass)")
    p.add_argument("target", help="a model CID, or a task id (audits its last finalized model)")
    add_options(p, LEDGER)
    p.add_argument("--workdir", metavar="DIR", default=None,
                   help="a `fedledger demo` directory: its deployment, store and saved chain "
                        "(anvil is started on a copy of the saved state unless --rpc is given)")
    p.add_argument("--from-block", type=int, default=None,
                   help="first block of event scans (default: the deployment block)")
    p.add_argument("--replay", action="store_true",
                   help="recompute every round and require bit-identical model CIDs and roots")
    p.add_argument("--eval-data", metavar="CSV", default=None,
                   help="with --replay: evaluate every round's model on this CSV")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--html", metavar="FILE", default=None, help="write a self-contained HTML page")
    p.set_defaults(func=_main)


@contextlib.contextmanager
def _chain_url(args: argparse.Namespace, deployment: Deployment) -> Iterator[str]:
    """The RPC URL to read from; with --workdir and no --rpc, an anvil on a state copy."""
    if args.rpc or not args.workdir:
        yield args.rpc or deployment.rpc_url
        return
    from ledger.chain.anvil import AnvilChain
    from ledger.deployment import DeploymentError

    state = Path(args.workdir) / CHAIN_STATE_FILE
    if not state.is_file():
        raise DeploymentError(f"no saved chain state at {state}")
    with tempfile.TemporaryDirectory(prefix="fedledger-audit-") as tmp:
        copy = Path(tmp) / CHAIN_STATE_FILE  # anvil rewrites its state file on exit
        shutil.copyfile(state, copy)
        with AnvilChain(state_file=copy) as chain:
            yield chain.rpc_url


@contextlib.contextmanager
def _content(args: argparse.Namespace, workdir: Path | None) -> Iterator[ContentStore]:
    """The store to audit against; a per-node demo's own IPFS nodes when it has no other."""
    if workdir is None or args.ipfs or "store" in args.given \
            or not (workdir / "ipfs").is_dir() or (workdir / "store").is_dir():
        with content_store(args, workdir=workdir) as store:
            yield store
        return
    from ledger.ipfs_store import IpfsStore
    from node.demo.ipfs_swarm import IpfsSwarm
    from node.demo.run import REQUESTER_NODE

    repos = workdir / "ipfs"
    names = sorted(d.name for d in repos.iterdir() if (d / "config").is_file())
    if REQUESTER_NODE not in names:
        raise CliError(f"{repos} holds no {REQUESTER_NODE!r} IPFS repo to audit through")
    print(f"starting the demo's {len(names)} IPFS nodes from {repos}", file=sys.stderr)
    with IpfsSwarm(repos, names) as swarm, IpfsStore(swarm[REQUESTER_NODE].api_url) as store:
        yield store


def run_audit(args: argparse.Namespace) -> AuditReport:
    """Make the audit the arguments ask for.

    Raises:
        LedgerError: no deployment, chain or store to audit against, or an unknown target.
        NodeError: the replay's evaluation data cannot be read; no store directory.
    """
    from ledger.audit import ArtifactCache, audit_model, audit_task
    from ledger.chain.rpc import http_web3
    from ledger.cid import Cid
    from ledger.deployment import Deployment
    from ledger.market import FedMarket

    workdir = Path(args.workdir) if args.workdir else None
    path = workdir / DEPLOYMENT_FILE if workdir else Path(args.deployment)
    deployment = Deployment.load(path)
    from_block = deployment.block if args.from_block is None else args.from_block
    with _content(args, workdir) as inner, _chain_url(args, deployment) as url:
        store = ArtifactCache(inner)
        w3 = http_web3(url)
        deployment.check_chain(w3)
        market = FedMarket.at(w3, deployment.market)
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
    if args.workdir and "deployment" in args.given:
        raise UsageError("--workdir and --deployment cannot be given together")
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
