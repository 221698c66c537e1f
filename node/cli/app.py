"""The ``fedledger`` command line: one sub-command module per concern.

Each ``node.cli_*`` module exposes ``register(subparsers)``, which adds its
sub-commands and sets ``func`` on each; this module only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ledger.errors import LedgerError
from node.errors import NodeError

_COMMAND_MODULES = (
    "node.cli.demo",
    "node.cli.deploy",
    "node.cli.task",
    "node.cli.node",
    "node.cli.audit",
    "node.cli.simulate",
    "node.cli.chain",
    "node.cli.store",
    "node.cli.key",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedledger",
        description="Decentralized federated learning on Ethereum and IPFS.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue  # a command module not written yet
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (LedgerError, NodeError) as err:
        # Expected failures (bad input, reverted transaction, unreachable node): one clear
        # line, no traceback.
        print(f"fedledger: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
