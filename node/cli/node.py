"""``fedledger node run|status``: one participant process for one task, and what a member
has staked, done and earned.

A node keeps its own files under ``--home DIR`` (``DIR/task-<id>/``): the personal model it
builds when the task ends (``node.runtime.personal_model``), which never leaves it."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from functools import partial
from pathlib import Path

from node.cli.errors import UsageError
from node.cli.options import KEY, LEDGER, CommandGroup, load_key, open_ledger
from node.cli.workdir import add_workdir_options, reading

__all__ = ["WAKE_MODES", "register"]

WAKE_MODES = ("blocks", "poll")


def register(subparsers: argparse._SubParsersAction) -> None:
    node = CommandGroup(subparsers, "node", "run a participant", shared=LEDGER + KEY)
    run = node.verb("run", "join a task and train, aggregate, claim until it ends")
    run.add_argument("--task", type=int, required=True)
    run.add_argument("--data", required=True, metavar="CSV", help="this participant's own data")
    run.add_argument("--client-id", default=None,
                     help="stable participant name that seeds its training (default: CSV stem)")
    run.add_argument("--home", default="fedledger-node", metavar="DIR",
                     help="this node's own directory (its personal model; default: "
                          "%(default)s)")
    run.add_argument("--poll", type=float, default=0.3, metavar="SECONDS",
                     help="longest wait between two reads of the chain (default: %(default)s)")
    run.add_argument("--wake", choices=WAKE_MODES, default="blocks",
                     help="blocks (default): act the moment a block lands (newHeads over "
                          "WebSocket, else a block filter, --poll at the latest); poll: read "
                          "every --poll seconds")
    run.add_argument("--timeout", type=float, default=None, metavar="SECONDS")
    run.add_argument("--keep-rounds", type=int, default=None, metavar="N",
                     help="unpin updates and models of rounds older than the last N finalized "
                          "(default: keep all)")
    run.add_argument("--claim-every", type=int, default=None, metavar="N",
                     help="claim rewards in one transaction once N rounds are claimable, and "
                          "the rest when the task ends (1: every round; default: 10)")
    run.add_argument("--misbehave", default=None, choices=["garbage", "nan", "wrong-shape"],
                     help="upload a bad update every round (robustness tests and demos only)")
    run.set_defaults(func=_run)

    status = node.verb("status", "a member's stake, slashes, submissions, seats, votes, "
                                 "rewards and personal model")
    status.add_argument("--task", type=int, required=True)
    status.add_argument("--address", default=None,
                        help="the member's address (default: the address of --key)")
    status.add_argument("--home", default=None, metavar="DIR",
                        help="the node's own directory, for its personal model's metrics")
    status.add_argument("--no-claimable", action="store_true",
                        help="skip recomputing unclaimed settled rounds (fast)")
    status.add_argument("--json", action="store_true")
    add_workdir_options(status)
    status.set_defaults(func=_status)


def _run(args: argparse.Namespace) -> int:
    from ledger.chain.new_heads import NewHeads
    from ledger.task_view import load_task
    from node.data.datasets import load_participant_csv
    from node.data.schemas import schema_of
    from node.learning.train import use_one_thread
    from node.runtime.node_home import record_checked
    from node.runtime.participant import Participant

    if args.claim_every is not None and args.claim_every < 1:
        raise UsageError("--claim-every must be at least 1")
    if args.keep_rounds is not None and args.keep_rounds < 1:
        raise UsageError("--keep-rounds must be at least 1 (the last finalized round's "
                         "artifacts are what the next round and its claims need)")
    client_id = args.client_id or Path(args.data).stem
    use_one_thread()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"%(asctime)s [{client_id}] %(message)s")
    account = load_key(args)
    deployment, market, store = open_ledger(args, create_store=True)
    reveals = deployment.seed_reveals_at(market.w3) if deployment.seed_reveals else None
    with store:
        view = load_task(market, store, args.task)
        data = load_participant_csv(args.data, schema_of(view.manifest), client_id=client_id,
                                    test_fraction=view.manifest.test_fraction,
                                    task_seed=view.manifest.seed)
        hook = None
        if args.misbehave:
            from node.sim.faulty_updates import MISBEHAVIOURS

            hook = MISBEHAVIOURS[args.misbehave]
        node = Participant(market, store, account, task=args.task, data=data,
                           client_id=client_id, update_hook=hook, seed_reveals=reveals,
                           keep_rounds=args.keep_rounds,
                           **({"claim_every": args.claim_every} if args.claim_every else {}))
        node.disputes.on_checked = partial(record_checked, args.home, args.task)
        logging.getLogger("fedledger.node").info(
            "participant %s on task %d with %d training rows", account.address,
            args.task, len(data.train))
        heads = NewHeads(market.w3.provider.endpoint_uri) if args.wake == "blocks" else None
        try:
            summary = node.run(poll_seconds=args.poll, timeout=args.timeout,
                               wake=heads.wait if heads is not None else None)
        finally:
            if heads is not None:
                heads.close()
        personal = _personal_model(market, store, view, data, client_id, args.home)
    print(json.dumps({"client_id": client_id, "address": account.address,
                      "submitted": summary.submitted, "claimed": summary.claimed,
                      "withdrawn": summary.withdrawn, "errors": len(summary.errors),
                      "epsilon": summary.epsilons, "seed_reveals": summary.seed_reveals,
                      "personal_model": personal}))
    return 0


def _personal_model(market, store, view, data, client_id: str, home: str) -> dict | None:
    """The personal model once the task is over (a node stopped by --timeout keeps none)."""
    from ledger.market_types import Phase
    from node.runtime.personal_model import keep_personal_model

    if market.phase(view.task) not in (Phase.FINISHED, Phase.CLOSED):
        return None
    report = keep_personal_model(market, store, view, data, client_id, home)
    if "personal" in report:
        logging.getLogger("fedledger.node").info(
            "personal model: held-out loss %.5f (global %.5f), accuracy %.4f (global %.4f)",
            report["personal"]["loss"], report["global"]["loss"],
            report["personal"]["accuracy"], report["global"]["accuracy"])
    return report


def _status(args: argparse.Namespace) -> int:
    from node.runtime.keystore import keystore_address
    from node.runtime.status import node_status, render_status

    address = args.address or keystore_address(args.key)
    with reading(args) as reader:
        status = node_status(reader.market, reader.store, args.task, address,
                             home=args.home, from_block=reader.from_block,
                             claimable=not args.no_claimable)
    print(json.dumps(status, indent=2) if args.json else render_status(status))
    return 0
