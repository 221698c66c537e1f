"""``fedledger deploy``: put the market contract on a chain and write the deployment file."""

from __future__ import annotations

import argparse

from node.cli.errors import UsageError
from node.cli.options import KEY, add_options, load_key

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    deploy = subparsers.add_parser("deploy", help="deploy the contracts, write a deployment file")
    deploy.add_argument("--out", default="deployment.json", metavar="FILE",
                        help="where to write the deployment file (default: %(default)s)")
    add_options(deploy, ("rpc", *KEY))
    deploy.set_defaults(func=_deploy)


def _deploy(args: argparse.Namespace) -> int:
    from ledger.chain.rpc import http_web3
    from ledger.deployment import deploy_market

    if not args.rpc:  # no deployment file to take the URL from yet
        raise UsageError("deploy needs --rpc URL (the chain to deploy to)")
    account = load_key(args)
    deployment, _ = deploy_market(http_web3(args.rpc), sender=account, rpc_url=args.rpc)
    deployment.save(args.out)
    print(f"FedMarket {deployment.market} on chain {deployment.chain_id} "
          f"(block {deployment.block}); wrote {args.out}")
    return 0
