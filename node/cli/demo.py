"""``fedledger demo``: the whole product on one machine, with a live progress view."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from node.cli.errors import CliError
from node.cli.options import add_options
from node.cli.privacy_options import add_privacy_args

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo", help="run a full task on a local chain with one process per shop, then audit it")
    demo.add_argument("--workdir", default="demo-work", metavar="DIR",
                      help="where chain state, deployment, store, keys and logs go "
                           "(default: %(default)s; must not hold an earlier demo)")
    demo.add_argument("--participants", type=int, default=9,
                      help="shops: 1..9 regions with the natural split, any number otherwise")
    demo.add_argument("--partition", default="natural",
                      choices=("natural", "iid", "dirichlet", "shards"),
                      help="how the sessions are split among shops (default: by Region)")
    demo.add_argument("--cohort", type=int, default=0, metavar="K",
                      help="client sampling: only K drawn shops train each round (0: all)")
    demo.add_argument("--rounds", type=int, default=10)
    demo.add_argument("--aggregation", default="fedavg")
    add_options(demo, ["ipfs"])
    demo.add_argument("--ipfs-per-node", action="store_true",
                      help="start one js-ipfs node per participant (and one for the requester), "
                           "peered on 127.0.0.1: every update reaches the committee by bitswap")
    demo.add_argument("--replace", action="store_true",
                      help="delete an earlier demo in --workdir first")
    demo.add_argument("--no-explorer", action="store_true",
                      help="do not serve the live explorer (scripts, CI): exit after the audit")
    demo.add_argument("--explorer-port", type=int, default=0, metavar="PORT",
                      help="the explorer's port on 127.0.0.1 (default: a free one)")
    add_privacy_args(demo)
    demo.set_defaults(func=_demo)


class _ProgressView:
    """One line per change: round, phase, submissions, committee votes, accuracy."""

    def __init__(self, participants: int, rounds: int, quorum: int, trainers: int) -> None:
        self.participants, self.rounds, self.quorum = participants, rounds, quorum
        self.trainers = trainers  # per round: every shop, or the cohort
        self.last = ""
        self.accuracy: dict[int, float] = {}

    def __call__(self, progress, jump) -> None:
        s = progress.state
        acc = self.accuracy.get(progress.finalized)
        line = (f"round {min(s.round, self.rounds):>2}/{self.rounds} attempt {s.attempt} "
                f"{s.phase.name:<9} members {progress.members}/{self.participants} "
                f"updates {s.submissions}/{self.trainers} "
                f"commits {progress.commits} reveals {progress.reveals} "
                f"finalized {progress.finalized}"
                + (f" acc {acc:.4f}" if acc is not None else ""))
        if line != self.last:
            print(line, flush=True)
            self.last = line
        if jump:
            print(f"  (dev chain) {jump}", flush=True)


def _remove_earlier_demo(workdir: Path) -> None:
    import shutil

    if not workdir.exists():
        return
    if not (workdir / "deployment.json").exists() and any(workdir.iterdir()):
        raise CliError(f"{workdir} is not empty and holds no demo: not deleting it")
    shutil.rmtree(workdir)


def _demo(args: argparse.Namespace) -> int:
    from node.cli.privacy_options import dp_settings
    from node.demo.run import DemoConfig, DemoRun
    from node.learning.task import evaluate_clients

    if args.replace:
        _remove_earlier_demo(Path(args.workdir))
    config = DemoConfig(workdir=Path(args.workdir), participants=args.participants,
                        rounds=args.rounds, aggregation=args.aggregation, ipfs=args.ipfs,
                        ipfs_per_node=args.ipfs_per_node, cohort=args.cohort,
                        partition=args.partition, privacy=args.privacy, dp=dp_settings(args, args.rounds))
    started = time.monotonic()
    print(f"fedledger demo: {config.participants} shops, {config.rounds} rounds, "
          f"privacy {config.privacy}{' + DP' if config.dp else ''}, "
          f"work directory {config.workdir}", flush=True)
    run = DemoRun.start(config)
    print(f"anvil {run.chain.rpc_url}, FedMarket {run.deployment.market}, task "
          f"{run.posted.task}, genesis {run.posted.genesis}", flush=True)
    explorer = None if args.no_explorer else _live_explorer(run, args.explorer_port)
    view = _ProgressView(config.participants, config.rounds, config.quorum,
                         min(config.cohort or config.participants, config.participants))
    manifest = None
    rounds: list[dict] = []

    def on_progress(progress, jump) -> None:
        nonlocal manifest
        while len(rounds) < progress.finalized:  # evaluate each new global model once
            from ledger.task_view import load_task

            manifest = manifest or load_task(run.market, run.store, run.posted.task).manifest
            entry = run.market.finalized_round(run.posted.task, len(rounds) + 1)
            metrics = evaluate_clients(manifest, run.store.get(entry.model), run.clients)
            view.accuracy[entry.round] = metrics["accuracy"]
            rounds.append({"round": entry.round, "model_cid": str(entry.model),
                           "submissions": entry.submissions,
                           "seconds": round(time.monotonic() - started, 1), **metrics})
        view(progress, jump)

    try:
        try:
            last = run.drive(on_progress=on_progress)
            codes = run.wait_nodes()
        finally:
            run.close(keep_ipfs=True)  # the explorer shows its last snapshot meanwhile
        code = _report(run, config, last, codes, rounds, started)
        if explorer is not None:
            from node.cli.explorer import serve_finished_demo

            serve_finished_demo(explorer, config.workdir)
        return code
    finally:
        if explorer is not None:
            explorer.close()
        if run.swarm is not None:
            run.swarm.close()


def _live_explorer(run, port: int):
    """The explorer over the running demo (its chain and store), its URL printed."""
    from node.demo.run import HELD_OUT_FILE
    from node.explorer.server import Explorer, csv_evaluator

    held_out = run.config.workdir / HELD_OUT_FILE
    explorer = Explorer(run.market, run.store, port=port, from_block=run.deployment.block,
                        evaluator=csv_evaluator(run.market, run.store, held_out),
                        eval_source=held_out.name).start()
    print(f"explorer: {explorer.url}  (live while the task runs; --no-explorer to skip)",
          flush=True)
    return explorer


def _report(run, config, last, codes, rounds: list[dict], started: float) -> int:
    from ledger.market_types import Phase
    from node.demo.run import HELD_OUT_FILE

    run.write_rounds(rounds)
    print(f"\ntask ended in phase {last.state.phase.name} after "
          f"{time.monotonic() - started:.0f} s; node exit codes {sorted(set(codes.values()))}")
    print("round  model                                                        acc     auc")
    for r in rounds:
        print(f"{r['round']:>5}  {r['model_cid']}  {r['accuracy']:.4f}  {r.get('auc') or float('nan'):.4f}")
    if last.state.phase != Phase.FINISHED:
        print("the task did not finish", file=sys.stderr)
        return 1
    from node.cli.app import main as cli_main

    audit = ["audit", str(run.posted.task), "--workdir", str(config.workdir), "--replay",
             "--html", str(config.workdir / "lineage.html")]
    if run.swarm is not None:
        # The auditor holds one participant's node only: the rest arrives by bitswap.
        audit += ["--ipfs", run.swarm["shop-1"].api_url]
    elif config.ipfs:
        audit += ["--ipfs", config.ipfs]
    # Accuracy per round in the page: the rows every shop held out (no model trained on
    # them), which only a demo, holding every shard, can gather.
    audit += ["--eval-data", str(config.workdir / HELD_OUT_FILE)]
    print(f"\n$ fedledger {' '.join(audit)}", flush=True)
    return cli_main(audit)
