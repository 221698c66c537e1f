"""Read-only access for the commands that look at a deployment (``task list``, ``node status``,
``model export``, ``predict``, ``audit``, ``explorer``): the chain, the market and a store,
from explicit options or from a ``fedledger demo`` work directory.

``--workdir DIR`` takes the demo's ``deployment.json``. Its chain: the deployment's RPC URL
while the demo runs; once it has stopped, an anvil started on a copy of the saved
``chain-state.json`` (and stopped afterwards). Its content: ``store/`` for a shared-store demo;
for a ``--ipfs-per-node`` demo, the requester's IPFS node while it runs, else the demo's nodes
started from their repos (peered on 127.0.0.1) and read through the requester's alone.
``--rpc``, ``--store`` and ``--ipfs`` override each part.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from node.cli.errors import CliError, UsageError
from node.cli.options import LEDGER, add_options, content_store

if TYPE_CHECKING:
    from ledger.deployment import Deployment
    from ledger.market import FedMarket
    from ledger.store import ContentStore

__all__ = ["CHAIN_STATE_FILE", "DEPLOYMENT_FILE", "Reader", "add_reader_options", "add_workdir_options", "reading"]

DEPLOYMENT_FILE = "deployment.json"
CHAIN_STATE_FILE = "chain-state.json"
_PROBE_SECONDS = 2.0


def add_reader_options(parser: argparse.ArgumentParser) -> None:
    """``--deployment/--rpc/--store/--ipfs``, ``--workdir`` and ``--from-block``."""
    add_options(parser, LEDGER)
    add_workdir_options(parser)


def add_workdir_options(parser: argparse.ArgumentParser) -> None:
    """``--workdir`` and ``--from-block`` (for parsers that have the ledger options already)."""
    parser.add_argument("--workdir", metavar="DIR", default=None,
                        help="a `fedledger demo` directory: its deployment, chain (live, or "
                             "restarted from the saved state) and store")
    parser.add_argument("--from-block", type=int, default=None,
                        help="first block of event scans (default: the deployment block)")


@dataclass(frozen=True)
class Reader:
    """What a read-only command reads through."""

    deployment: Deployment
    market: FedMarket
    store: ContentStore
    from_block: int
    workdir: Path | None


def _answers(url: str, payload: bytes, *, method: str = "POST") -> bool:
    request = urllib.request.Request(url, data=payload, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=_PROBE_SECONDS) as reply:
            return reply.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def _chain_url(args: argparse.Namespace, deployment: Deployment) -> Iterator[str]:
    if args.rpc or not args.workdir:
        yield args.rpc or deployment.rpc_url
        return
    probe = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).encode()
    if _answers(deployment.rpc_url, probe):  # the demo is still running
        yield deployment.rpc_url
        return
    from ledger.chain.anvil import AnvilChain
    from ledger.deployment import DeploymentError

    state = Path(args.workdir) / CHAIN_STATE_FILE
    if not state.is_file():
        raise DeploymentError(f"no saved chain state at {state} and no chain at "
                              f"{deployment.rpc_url}")
    with tempfile.TemporaryDirectory(prefix="fedledger-chain-") as tmp:
        copy = Path(tmp) / CHAIN_STATE_FILE  # anvil rewrites its state file on exit
        shutil.copyfile(state, copy)
        with AnvilChain(state_file=copy) as chain:
            yield chain.rpc_url


def _live_api(repo: Path) -> str | None:
    """The API URL of the IPFS daemon serving ``repo`` right now, if one does."""
    try:
        address = json.loads((repo / "config").read_text())["Addresses"]["API"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    address = address[0] if isinstance(address, list) else address
    parts = str(address).split("/")  # /ip4/127.0.0.1/tcp/PORT
    if len(parts) < 5:
        return None
    url = f"http://{parts[2]}:{parts[4]}"
    return url if _answers(f"{url}/api/v0/id", b"") else None


@contextlib.contextmanager
def _content(args: argparse.Namespace, workdir: Path | None) -> Iterator[ContentStore]:
    if workdir is None or args.ipfs or "store" in args.given \
            or not (workdir / "ipfs").is_dir() or (workdir / "store").is_dir():
        with content_store(args, workdir=workdir) as store:
            yield store
        return
    from ledger.ipfs_store import IpfsStore
    from node.demo.ipfs_swarm import IpfsSwarm
    from node.demo.run import REQUESTER_NODE

    repos = workdir / "ipfs"
    names = sorted(d.name for d in repos.iterdir() if (d / "config").is_file())
    if REQUESTER_NODE not in names:
        raise CliError(f"{repos} holds no {REQUESTER_NODE!r} IPFS repo to read through")
    live = _live_api(repos / REQUESTER_NODE)
    if live is not None:
        with IpfsStore(live) as store:
            yield store
        return
    print(f"starting the demo's {len(names)} IPFS nodes from {repos}", file=sys.stderr)
    with IpfsSwarm(repos, names) as swarm, IpfsStore(swarm[REQUESTER_NODE].api_url) as store:
        yield store


@contextlib.contextmanager
def reading(args: argparse.Namespace) -> Iterator[Reader]:
    """The deployment, market and store the options name (see the module docstring).

    Raises:
        UsageError: ``--workdir`` together with ``--deployment``.
        DeploymentError: no deployment file; the RPC is on another chain; no chain to read.
        RpcError: the chain cannot be reached.
        CliError: no content store.
    """
    from ledger.chain.rpc import http_web3
    from ledger.deployment import Deployment
    from ledger.market import FedMarket

    workdir = Path(args.workdir) if args.workdir else None
    if workdir is not None and "deployment" in args.given:
        raise UsageError("--workdir and --deployment cannot be given together")
    deployment = Deployment.load(workdir / DEPLOYMENT_FILE if workdir else Path(args.deployment))
    from_block = deployment.block if args.from_block is None else args.from_block
    with _content(args, workdir) as store, _chain_url(args, deployment) as url:
        w3 = http_web3(url)
        deployment.check_chain(w3)
        yield Reader(deployment, FedMarket.at(w3, deployment.market), store, from_block, workdir)
