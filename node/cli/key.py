"""``fedledger key new|import``: make the encrypted keystore a node runs with."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from node.cli.errors import CliError
from node.cli.options import CommandGroup
from node.runtime.keystore import KEY_ENV, PASSWORD_ENV

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    key = CommandGroup(subparsers, "key", "create or import an encrypted keystore")
    for name, helptext in (("new", "generate a fresh key"),
                           ("import", f"encrypt the key in ${KEY_ENV}")):
        p = key.verb(name, helptext)
        p.add_argument("--out", required=True, metavar="FILE", help="keystore to write")
        p.set_defaults(func=_write, fresh=name == "new")


def _write(args: argparse.Namespace) -> int:
    from eth_account import Account

    from node.runtime.keystore import load_account, write_keystore

    password = os.environ.get(PASSWORD_ENV)
    if not password:
        raise CliError(f"set {PASSWORD_ENV} to the keystore password")
    out = Path(args.out)
    if out.exists():
        raise CliError(f"{out} exists; not overwriting a key")
    account = Account.create() if args.fresh else load_account(None)
    write_keystore(account, out, password)
    print(f"{account.address} -> {out}")
    return 0
