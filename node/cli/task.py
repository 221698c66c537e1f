"""``fedledger task create|list|show``: post a task with its bounty, find one to join, or read
one back."""

from __future__ import annotations

import argparse
import json

from node.cli.options import KEY, LEDGER, CommandGroup, add_options, load_key, open_ledger
from node.cli.privacy_options import add_privacy_args, dp_settings
from node.cli.workdir import add_workdir_options, reading
from node.requester.presets import PRESETS

__all__ = ["WEI_PER_ETH", "register"]

WEI_PER_ETH = 10**18


def register(subparsers: argparse._SubParsersAction) -> None:
    task = CommandGroup(subparsers, "task", "post or inspect a training task", shared=LEDGER)

    create = task.verb("create", "post a task: manifest + genesis + bounty")
    add_options(create, KEY)
    create.add_argument("--preset", choices=sorted(PRESETS), default="shoppers",
                        help="manifest preset (architecture, data schema, training)")
    create.add_argument("--rounds", type=int, default=None)
    create.add_argument("--aggregation", default=None, help="fedavg, median, krum, ...")
    create.add_argument("--committee", type=int, default=None, help="committee size k")
    create.add_argument("--quorum", type=int, default=None, help="matching reveals needed")
    create.add_argument("--durations", default=None, metavar="TRAIN,COMMIT,REVEAL",
                        help="phase durations in seconds of chain time")
    create.add_argument("--join-seconds", type=int, default=120, help="window before round 1")
    create.add_argument("--bounty-eth", type=float, default=1.0)
    create.add_argument("--stake-eth", type=float, default=None)
    create.add_argument("--max-participants", type=int, default=64)
    create.add_argument("--min-submissions", type=int, default=1)
    create.add_argument("--cohort", type=int, default=0, metavar="K",
                        help="client sampling: only K members, drawn on chain each round, "
                             "train in it (default 0: all)")
    create.add_argument("--committee-fee-eth", type=float, default=0.0)
    create.add_argument("--seed", type=int, default=None)
    add_privacy_args(create)
    create.set_defaults(func=_create)

    listing = task.verb("list", "every task on the deployment: terms, phase, members, join "
                                "time left")
    listing.add_argument("--open", action="store_true", help="only tasks one can join now")
    listing.add_argument("--json", action="store_true")
    add_workdir_options(listing)
    listing.set_defaults(func=_list)

    show = task.verb("show", "print a task's parameters, manifest and state")
    show.add_argument("task", type=int)
    show.set_defaults(func=_show)


def _wei(eth: float) -> int:
    return round(eth * WEI_PER_ETH)


def _create(args: argparse.Namespace) -> int:
    from ledger.manifest import PhaseDurations
    from node.requester.post import TaskTerms, post_task
    from node.requester.presets import distributed_schedule, preset_manifest

    overrides: dict = {}
    for field in ("rounds", "aggregation", "seed"):
        if getattr(args, field) is not None:
            overrides[field] = getattr(args, field)
    if args.committee is not None:
        overrides["committee_size"] = args.committee
    if args.quorum is not None:
        overrides["quorum"] = args.quorum
    if args.stake_eth is not None:
        overrides["stake"] = _wei(args.stake_eth)
    if args.durations:
        train, commit, reveal = (int(x) for x in args.durations.split(","))
        overrides["phase_durations"] = PhaseDurations(train=train, commit=commit, reveal=reveal)
    rounds = args.rounds if args.rounds is not None else PRESETS[args.preset]["rounds"]
    dp = dp_settings(args, rounds)
    overrides.update(distributed_schedule(dp, PRESETS[args.preset]["max_samples"]))
    manifest = preset_manifest(args.preset, privacy=args.privacy, dp=dp, **overrides)
    terms = TaskTerms(bounty=_wei(args.bounty_eth), max_participants=args.max_participants,
                      min_submissions=args.min_submissions, join_duration=args.join_seconds,
                      committee_fee=_wei(args.committee_fee_eth), cohort_size=args.cohort)
    _, market, store = open_ledger(args, create_store=True)
    with store:
        posted = post_task(market, store, manifest, terms, sender=load_key(args))
    print(f"task {posted.task}: manifest {posted.manifest}, genesis {posted.genesis}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from ledger.task_directory import list_tasks
    from ledger.units import format_amount

    with reading(args) as reader:
        rows = list_tasks(reader.market, reader.store, from_block=reader.from_block,
                          open_only=args.open)
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], indent=2))
        return 0
    if not rows:
        print("no open tasks" if args.open else "no tasks")
        return 0
    print(f"{'task':>4}  {'phase':<9} {'rounds':>7}  {'members':>7}  {'bounty':>14}  "
          f"{'min stake':>14}  {'privacy':<12} join")
    for r in rows:
        p = r.params
        privacy = (r.privacy or "?") + ("+dp" if r.epsilon_dp else "")
        join = f"{r.join_seconds_left} s left" if r.open else "closed"
        print(f"{r.task:>4}  {r.phase.name:<9} {r.rounds_done:>3}/{p.rounds:<3}  "
              f"{r.members:>3}/{p.max_participants:<3}  "
              f"{format_amount(p.bounty, p.token, places=4):>14}  "
              f"{format_amount(p.min_stake, p.token, places=4):>14}  {privacy:<12} {join}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from ledger.task_view import load_task

    _, market, store = open_ledger(args)
    with store:
        view = load_task(market, store, args.task)
    state = market.round_state(args.task)
    print(json.dumps({
        "task": args.task, "requester": view.requester, "start_time": view.start_time,
        "bounty": view.params.bounty, "rounds": view.params.rounds,
        "manifest_cid": str(view.params.manifest), "genesis_cid": str(view.params.genesis),
        "manifest": view.manifest.to_dict(),
        "state": {"round": state.round, "attempt": state.attempt, "phase": state.phase.name,
                  "submissions": state.submissions},
        "members": market.members(args.task),
    }, indent=2, default=str))
    return 0
