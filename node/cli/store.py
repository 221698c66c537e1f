"""``fedledger store put|get``: the content store from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    store = subparsers.add_parser("store", help="put or get content-addressed blobs")
    target = store.add_mutually_exclusive_group()
    target.add_argument("--store", default="fedledger-store", metavar="DIR",
                        help="embedded local blockstore directory (default: %(default)s)")
    target.add_argument("--ipfs", default=None, metavar="URL",
                        help="an IPFS node's HTTP RPC API, e.g. http://127.0.0.1:5001")
    store_sub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    put = store_sub.add_parser("put", help="store FILE (or - for stdin) and print its CID")
    put.add_argument("file")
    put.set_defaults(func=_put)
    get = store_sub.add_parser("get", help="fetch CID, verify it, write it to stdout or -o FILE")
    get.add_argument("cid")
    get.add_argument("-o", "--output", default=None, metavar="FILE")
    get.set_defaults(func=_get)


def _open(args: argparse.Namespace):
    from ledger.stores import open_store

    return open_store(args.ipfs or args.store)


def _put(args: argparse.Namespace) -> int:
    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    with _open(args) as store:
        print(store.put(data))
    return 0


def _get(args: argparse.Namespace) -> int:
    from ledger.cid import Cid
    from ledger.errors import LedgerError

    try:
        with _open(args) as store:
            data = store.get(Cid.parse(args.cid))
    except LedgerError as err:
        print(f"fedledger: {err}", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return 0
