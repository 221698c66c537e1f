"""``fedledger store put|get|ls``: the content store from the command line.

``store ls --task ID`` lists every artifact of a task the chain names (manifest, genesis,
each round's updates and model) and whether this store holds it and pins it: what a
participant's own IPFS node keeps (``node run --keep-rounds`` decides how long).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from node.cli.options import CommandGroup, add_options, content_store, open_ledger

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    store = CommandGroup(subparsers, "store", "put or get content-addressed blobs",
                         shared=("store", "ipfs"))
    put = store.verb("put", "store FILE (or - for stdin) and print its CID")
    put.add_argument("file")
    put.set_defaults(func=_put)
    get = store.verb("get", "fetch CID, verify it, write it to stdout or -o FILE")
    get.add_argument("cid")
    get.add_argument("-o", "--output", default=None, metavar="FILE")
    get.set_defaults(func=_get)
    ls = store.verb("ls", "list a task's artifacts and whether this store holds and pins them")
    ls.add_argument("--task", type=int, required=True)
    ls.add_argument("--json", action="store_true", help="one JSON object per artifact")
    add_options(ls, ["deployment", "rpc"])
    ls.set_defaults(func=_ls)


def _put(args: argparse.Namespace) -> int:
    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    with content_store(args, create=True) as store:
        print(store.put(data))
    return 0


def _get(args: argparse.Namespace) -> int:
    from ledger.cid import Cid

    with content_store(args) as store:
        data = store.get(Cid.parse(args.cid))
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


def _task_artifacts(market, task: int) -> list[tuple[str, int, str, object]]:
    """``(kind, round, owner, cid)`` of every artifact of ``task`` the chain names, round 0
    for the manifest and genesis; an update whose on-chain pair is no CID has cid None."""
    info = market.task_info(task)
    rows: list[tuple[str, int, str, object]] = [
        ("manifest", 0, info.requester, info.params.manifest),
        ("genesis", 0, info.requester, info.params.genesis)]
    for entry in market.lineage(task):
        rows += [("update", entry.round, u.participant, u.cid)
                 for u in market.updates(task, entry.round)]
        rows.append(("model", entry.round, "committee", entry.model))
    return rows


def _ls(args: argparse.Namespace) -> int:
    import json

    _, market, store = open_ledger(args)
    with store:
        rows = _task_artifacts(market, args.task)
        cids = [cid for *_, cid in rows if cid is not None]
        held, pinned = store.held(cids), store.pinned(cids)
    for kind, round_, owner, cid in rows:
        record = {"kind": kind, "round": round_, "owner": owner,
                  "cid": str(cid) if cid is not None else None,
                  "held": cid in held, "pinned": cid in pinned}
        if args.json:
            print(json.dumps(record))
        else:
            flags = ("held" if record["held"] else "-") + ("," + "pinned" if record["pinned"] else "")
            print(f"{round_:>5}  {kind:<8}  {record['cid'] or '<not a CID>':<60}  {flags:<11}  {owner}")
    print(f"{len(held)} of {len(cids)} artifacts held, {len(pinned)} pinned", file=sys.stderr)
    return 0
