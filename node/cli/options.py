"""Options shared by several ``fedledger`` commands, declared once, and the openers they
lead to.

Connection facts flow down from one place: the deployment file names the chain and the
market; ``--rpc`` only overrides the URL (a node on another machine reaches the same
chain through its own endpoint); ``--store``/``--ipfs`` pick the content store. Keys come
from ``--key`` (an encrypted keystore) or ``$FEDLEDGER_PRIVATE_KEY``, never from a file
of settings.

A group's shared options are accepted before and after its verb, as git, ipfs and docker
users expect (``fedledger store --store D put F`` and ``fedledger store put F --store D``).
They are added with ``default=SUPPRESS`` on both parsers, so a verb's parser cannot
overwrite the group's value with its own default; :func:`finish` fills the defaults in
after parsing and records which options were typed (``args.given``).

Nothing heavy is imported at module level: ``fedledger --help`` must not load web3 or torch.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from node.cli.errors import CliError, UsageError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from ledger.deployment import Deployment
    from ledger.market import FedMarket
    from ledger.store import ContentStore

__all__ = [
    "KEY",
    "LEDGER",
    "OPTIONS",
    "CommandGroup",
    "Option",
    "add_options",
    "content_store",
    "finish",
    "load_key",
    "open_ledger",
]


@dataclass(frozen=True)
class Option:
    """One shared option: its flags, default, help, and the exclusive set it belongs to."""

    flags: tuple[str, ...]
    default: Any
    help: str
    metavar: str | None = None
    exclusive: str | None = None  # options with the same name here cannot be given together
    extra: dict[str, Any] = field(default_factory=dict)


OPTIONS: dict[str, Option] = {
    "deployment": Option(("--deployment",), "deployment.json",
                         "deployment file written by `fedledger deploy`", "FILE"),
    "rpc": Option(("--rpc",), None, "JSON-RPC URL of the chain (default: the deployment "
                                    "file's; `deploy` needs it)",
                  "URL"),
    "store": Option(("--store",), "fedledger-store", "embedded content store directory",
                    "DIR", exclusive="content"),
    "ipfs": Option(("--ipfs",), None,
                   "an IPFS node's HTTP RPC API, e.g. http://127.0.0.1:5001", "URL",
                   exclusive="content"),
    "key": Option(("--key",), None,
                  "encrypted keystore (password from $FEDLEDGER_KEY_PASSWORD or "
                  "--password-file); default: $FEDLEDGER_PRIVATE_KEY", "KEYFILE"),
    "password_file": Option(("--password-file",), None, "file holding the keystore password",
                            "FILE"),
}
LEDGER = ("deployment", "rpc", "store", "ipfs")
KEY = ("key", "password_file")


def add_options(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """Adds the shared options ``names`` to ``parser`` (values filled in by :func:`finish`)."""
    for name in names:
        option = OPTIONS[name]
        shown = f" (default: {option.default})" if option.default is not None else ""
        parser.add_argument(*option.flags, dest=name, default=argparse.SUPPRESS,
                            metavar=option.metavar, help=option.help + shown, **option.extra)


class CommandGroup:
    """A command group (``fedledger NAME VERB``) whose ``shared`` options each verb takes too."""

    def __init__(self, subparsers: argparse._SubParsersAction, name: str, help: str,
                 shared: Iterable[str] = ()) -> None:
        self.shared = tuple(shared)
        self.parser = subparsers.add_parser(name, help=help)
        add_options(self.parser, self.shared)
        self._verbs = self.parser.add_subparsers(dest=f"{name}_command", metavar="ACTION",
                                                 required=True)

    def verb(self, name: str, help: str, **kwargs: Any) -> argparse.ArgumentParser:
        """Adds verb ``name``, with the group's shared options."""
        parser = self._verbs.add_parser(name, help=help, **kwargs)
        add_options(parser, self.shared)
        return parser


def finish(args: argparse.Namespace) -> argparse.Namespace:
    """Records the options typed (``args.given``), rejects exclusive pairs, fills defaults.

    Raises:
        UsageError: two options of one exclusive set (``--store`` and ``--ipfs``).
    """
    given = {name for name in OPTIONS if hasattr(args, name)}
    by_set: dict[str, list[str]] = {}
    for name in sorted(given):
        if OPTIONS[name].exclusive:
            by_set.setdefault(OPTIONS[name].exclusive, []).append(OPTIONS[name].flags[0])
    for flags in by_set.values():
        if len(flags) > 1:
            raise UsageError(f"{' and '.join(flags)} cannot be given together")
    for name, option in OPTIONS.items():
        if name not in given:
            setattr(args, name, option.default)
    args.given = frozenset(given)
    return args


def load_key(args: argparse.Namespace) -> LocalAccount:
    """The account from ``--key`` (keystore) or ``$FEDLEDGER_PRIVATE_KEY``."""
    from node.runtime.keystore import load_account

    return load_account(args.key, password_file=args.password_file)


def content_store(args: argparse.Namespace, *, create: bool = False,
                  workdir: Path | None = None) -> ContentStore:
    """``--ipfs URL``, else the ``--store DIR`` directory (``workdir/store`` when the command
    has a work directory and no ``--store`` was typed).

    Only commands that write first (``create``: ``store put``, ``task create``, ``node run``)
    may start an empty directory; every other command refuses a missing one, since each of
    its fetches would fail with "not found" instead of naming the real mistake.

    Raises:
        CliError: no store directory there.
        StoreUnavailableError: a URL that is not an API address.
    """
    from ledger.stores import open_store

    if args.ipfs:
        return open_store(args.ipfs)
    directory = Path(args.store)
    if "store" not in args.given and workdir is not None:
        directory = workdir / "store"
    if not create and not directory.is_dir():
        raise CliError(f"no content store at {directory} (give --store DIR or --ipfs URL)")
    return open_store(str(directory))


def open_ledger(args: argparse.Namespace, *, create_store: bool = False,
                ) -> tuple[Deployment, FedMarket, ContentStore]:
    """The deployment, a market client on its chain, and the content store.

    Raises:
        DeploymentError: missing deployment file, or the RPC is on another chain.
        RpcError: the chain cannot be reached.
        CliError: no content store (see :func:`content_store`).
    """
    from ledger.chain.rpc import http_web3
    from ledger.deployment import Deployment
    from ledger.market import FedMarket

    deployment = Deployment.load(Path(args.deployment))
    w3 = http_web3(args.rpc or deployment.rpc_url)
    deployment.check_chain(w3)
    market = FedMarket.at(w3, deployment.market)
    return deployment, market, content_store(args, create=create_store)
