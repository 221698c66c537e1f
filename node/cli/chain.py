"""``fedledger chain up``: a local anvil testnet for development and demos."""

from __future__ import annotations

import argparse
import signal
import threading

from node.cli.options import CommandGroup

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    chain = CommandGroup(subparsers, "chain", "run a local chain (anvil)")
    up = chain.verb("up", "start anvil on 127.0.0.1 and wait for Ctrl-C")
    up.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    up.add_argument(
        "--state", default=None, metavar="FILE",
        help="load the chain from FILE if it exists and dump it there on exit",
    )
    up.add_argument("--accounts", type=int, default=10, help="funded dev accounts")
    up.add_argument("--block-time", type=int, default=1, metavar="SECONDS",
                    help="mine a block every SECONDS so chain time (and task phases) advance "
                         "without transactions (default: %(default)s; 0 = only on transactions)")
    up.set_defaults(func=_chain_up)


def _chain_up(args: argparse.Namespace) -> int:
    from ledger.chain.anvil import AnvilChain

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with AnvilChain(port=args.port, state_file=args.state, accounts=args.accounts,
                    block_time=args.block_time or None) as chain:
        print(f"RPC URL   {chain.rpc_url}")
        print(f"chain id  {chain.chain_id}")
        print("dev accounts (test mnemonic; never use these keys outside a local chain):")
        for index, account in enumerate(chain.accounts):
            print(f"  [{index}] {account.address}  {account.key.hex()}")
        print("Ctrl-C to stop" + (f"; state is saved to {args.state}" if args.state else ""),
              flush=True)
        stop.wait()
    return 0
