"""The ``fedledger`` command line: one module per command, assembled here.

Each module in :data:`COMMANDS` exposes ``register(subparsers)``, which adds its parser
and sets ``func``; command modules import only argparse and :mod:`node.cli.options` at
module level (everything heavy inside the command), so ``fedledger --help`` loads
neither web3 nor torch. A command module that fails to import is a bug, never skipped.

One error path: expected failures (``LedgerError``, ``NodeError``, ``CliError``) print one
line on stderr and exit 1; usage errors (argparse's, ``UsageError``) exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from node.cli.errors import UsageError
from node.cli.options import finish

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS = ("demo", "deploy", "task", "node", "audit", "explorer", "model", "predict", "simulate",
            "chain", "store", "key")
"""Command names; ``node.cli.<name>`` registers each."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedledger",
        description="Decentralized federated learning on Ethereum and IPFS.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"node.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns the exit code."""
    from ledger.errors import LedgerError  # light: no web3
    from node.errors import NodeError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        finish(args)
        return int(args.func(args) or 0)
    except UsageError as err:
        parser.print_usage(sys.stderr)
        print(f"fedledger: error: {err}", file=sys.stderr)
        return 2
    except (LedgerError, NodeError) as err:
        # Expected failures (bad input, reverted transaction, unreachable node): one clear
        # line, no traceback.
        print(f"fedledger: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
