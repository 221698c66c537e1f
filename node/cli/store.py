"""``fedledger store put|get``: the content store from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from node.cli.options import CommandGroup, content_store

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
