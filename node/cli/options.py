"""Options and openers shared by the ``fedledger`` sub-commands that touch the ledger.

Connection facts flow down from one place: the deployment file names the chain and the
market; ``--rpc`` only overrides the URL (a node on another machine reaches the same
chain through its own endpoint); ``--store``/``--ipfs`` pick the content store. Keys come
from ``--key`` (an encrypted keystore) or ``$FEDLEDGER_PRIVATE_KEY``, never from a file
of settings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from eth_account.signers.local import LocalAccount

from ledger.chain.rpc import http_web3
from ledger.deployment import Deployment
from ledger.market import FedMarket
from ledger.store import ContentStore
from ledger.stores import open_store
from node.runtime.keystore import load_account

__all__ = ["add_key_args", "add_ledger_args", "load_key", "open_ledger"]


def add_ledger_args(parser: argparse.ArgumentParser) -> None:
    """``--deployment``, ``--rpc``, ``--store``/``--ipfs``."""
    parser.add_argument("--deployment", default="deployment.json", metavar="FILE",
                        help="deployment file written by `fedledger deploy` (default: %(default)s)")
    parser.add_argument("--rpc", default=None, metavar="URL",
                        help="JSON-RPC URL (default: the one in the deployment file)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--store", default="fedledger-store", metavar="DIR",
                        help="embedded content store directory (default: %(default)s)")
    target.add_argument("--ipfs", default=None, metavar="URL",
                        help="an IPFS node's HTTP RPC API, e.g. http://127.0.0.1:5001")


def add_key_args(parser: argparse.ArgumentParser) -> None:
    """``--key`` and ``--password-file``."""
    parser.add_argument("--key", default=None, metavar="KEYFILE",
                        help="encrypted keystore (password from $FEDLEDGER_KEY_PASSWORD or "
                             "--password-file); default: $FEDLEDGER_PRIVATE_KEY")
    parser.add_argument("--password-file", default=None, metavar="FILE")


def load_key(args: argparse.Namespace) -> LocalAccount:
    return load_account(args.key, password_file=args.password_file)


def open_ledger(args: argparse.Namespace) -> tuple[Deployment, FedMarket, ContentStore]:
    """The deployment, a market client on its chain, and the content store.

    Raises:
        DeploymentError: missing deployment file, or the RPC is on another chain.
        RpcError: the chain cannot be reached.
    """
    deployment = Deployment.load(Path(args.deployment))
    w3 = http_web3(args.rpc or deployment.rpc_url)
    deployment.check_chain(w3)
    market = FedMarket.at(w3, deployment.market)
    return deployment, market, open_store(args.ipfs or args.store)
