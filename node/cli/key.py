"""``fedledger key new|import``: make the encrypted keystore a node runs with."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from eth_account import Account

from node.runtime.keystore import KEY_ENV, PASSWORD_ENV, load_account, write_keystore


def register(subparsers: argparse._SubParsersAction) -> None:
    key = subparsers.add_parser("key", help="create or import an encrypted keystore")
    key_sub = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    for name, helptext in (("new", "generate a fresh key"),
                           ("import", f"encrypt the key in ${KEY_ENV}")):
        p = key_sub.add_parser(name, help=helptext)
        p.add_argument("--out", required=True, metavar="FILE", help="keystore to write")
        p.set_defaults(func=_write, fresh=name == "new")


def _write(args: argparse.Namespace) -> int:
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        print(f"fedledger: set {PASSWORD_ENV} to the keystore password", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.exists():
        print(f"fedledger: {out} exists; not overwriting a key", file=sys.stderr)
        return 2
    account = Account.create() if args.fresh else load_account(None)
    write_keystore(account, out, password)
    print(f"{account.address} -> {out}")
    return 0
