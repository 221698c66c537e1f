"""The multi-process demo: a whole federated task on a local chain, then its audit.

``fedledger demo`` (and ``make demo``) lays out a work directory::

    DIR/chain-state.json   anvil's state (dumped on exit: `fedledger audit --workdir DIR`
                           restarts the chain from it)
    DIR/deployment.json    where the market lives
    DIR/store/             the embedded content store (unless --ipfs or --ipfs-per-node)
    DIR/ipfs/<name>/       with --ipfs-per-node: one IPFS repo per participant and one for
                           the requester, each served by its own js-ipfs daemon; the daemons
                           peer over libp2p on 127.0.0.1 and share nothing else
    DIR/data/<shop>.csv    each participant's own sessions (one region of the shoppers data)
    DIR/data/held-out.csv  the rows the shops hold out (the audit evaluates models on them)
    DIR/nodes/<shop>/      each participant's own directory (its personal model)
    DIR/keys/<shop>.json   each participant's encrypted keystore
    DIR/logs/<shop>.log    each participant's log
    DIR/rounds.json        per-round progress and accuracy

and starts one ``fedledger node run`` process per participant (each with ``--ipfs`` of its
own node when the demo runs one IPFS node per participant). The demo itself only
posts the task, shows progress, fast-forwards idle chain time (``node.demo.timekeeper``) and
evaluates each finalized model on the shops' held-out rows, which only a demo holding
every shard can do; the participants do everything else through the chain and the store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount

from ledger.chain.anvil import AnvilChain
from ledger.chain.new_heads import NewHeads
from ledger.deployment import Deployment, deploy_market
from ledger.manifest import DpSettings
from ledger.market import FedMarket
from ledger.market_types import Phase
from ledger.store import ContentStore
from ledger.stores import open_store
from node.data.datasets import ClientData, Table, held_out_table, write_csv_table, write_shards
from node.data.split import DataSplit, build_clients, load_pooled, partition_rows
from node.demo.ipfs_swarm import IpfsSwarm
from node.demo.timekeeper import RoundProgress, TimeKeeper
from node.errors import NodeError
from node.requester.post import PostedTask, TaskTerms, post_task
from node.requester.presets import PRESETS, distributed_schedule, preset_manifest
from node.runtime.keystore import PASSWORD_ENV, write_keystore
from node.runtime.node_home import read_checked
from node.seeds import derive_seed

__all__ = ["CHECKED_POLL_SECONDS", "DEMO_PASSWORD", "HELD_OUT_FILE", "REQUESTER_NODE",
           "DemoConfig", "DemoRun", "NodeProcess", "write_held_out"]

DEMO_PASSWORD = "fedledger-demo"  # protects throwaway dev keys only
REQUESTER_NODE = "requester"  # --ipfs-per-node: the name of the requester's IPFS repo
HELD_OUT_FILE = "data/held-out.csv"  # every shop's held-out rows: the audit's evaluation set
CHECKED_POLL_SECONDS = 0.02  # the time keeper's look at the nodes' checked-round records


def write_held_out(table: Table, parts: dict, manifest, path: Path) -> Path:
    """Every shop's held-out rows in one CSV (what the demo's audit evaluates models on: rows
    no node trained on; only a demo, which holds every shard, can write it)."""
    rows: list[tuple[str, ...]] = []
    for client_id, indices in parts.items():
        rows += held_out_table(client_id, table.take(indices), test_fraction=manifest.test_fraction,
                               task_seed=manifest.seed).rows
    write_csv_table(path, Table(table.header, tuple(rows)))
    return path


@dataclass(frozen=True)
class DemoConfig:
    """What to run. Defaults finish in a few minutes on 2 cores."""

    workdir: Path
    participants: int = 9
    rounds: int = 10
    preset: str = "shoppers"
    ipfs: str | None = None
    ipfs_per_node: bool = False
    keep_rounds: int | None = None
    max_retries: int = 2  # attempts after the first before a round without quorum closes the task
    aggregation: str = "fedavg"
    committee: int = 3
    quorum: int = 2
    bounty_wei: int = 10**18
    stall_seconds: float = 60.0
    timeout: float = 900.0
    privacy: str = "open"
    dp: DpSettings | None = None
    # How nodes and the time keeper wait: "blocks" (woken by each block; 0.34 vs 2.08 s/round
    # after round 1 on 9 shops, bench/results/round_events.json) or "poll" (a read every interval).
    wake: str = "blocks"
    # Client sampling: only `cohort` drawn members train each round (0: all of them).
    cohort: int = 0
    # How the shoppers' sessions are split: "natural" (one shop per Region, at most 9) or a
    # synthetic split into `participants` shops ("iid", "dirichlet", "shards").
    partition: str = "natural"


@dataclass
class NodeProcess:
    client_id: str
    account: LocalAccount
    data: Path
    keyfile: Path
    log: Path
    misbehave: str | None = None
    ipfs: str | None = None  # the participant's own IPFS node (None: the demo's store)
    process: subprocess.Popen | None = None
    launches: int = 0


@dataclass
class DemoRun:
    """A started demo: chain, market, store, task and node processes."""

    config: DemoConfig
    chain: AnvilChain
    deployment: Deployment
    market: FedMarket
    store: ContentStore
    posted: PostedTask
    clients: list[ClientData]
    nodes: list[NodeProcess] = field(default_factory=list)
    swarm: IpfsSwarm | None = None  # --ipfs-per-node: the requester's node and one per shop

    # ------------------------------------------------------------------ set-up

    @classmethod
    def start(cls, config: DemoConfig, *, launch: bool = True) -> DemoRun:
        """Start anvil, deploy, post the task, write shards and keys, launch the nodes."""
        workdir = config.workdir
        for sub in ("data", "keys", "logs"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        state_file = workdir / "chain-state.json"
        if state_file.exists():
            raise NodeError(f"{workdir} already holds a demo: choose an empty --workdir")
        if config.ipfs and config.ipfs_per_node:
            raise NodeError("--ipfs and --ipfs-per-node cannot be given together")
        chain = AnvilChain(state_file=state_file, accounts=config.participants + 1)
        swarm = None
        try:
            if config.ipfs_per_node:
                names = [REQUESTER_NODE] + [f"shop-{i}" for i in range(1, config.participants + 1)]
                swarm = IpfsSwarm(workdir / "ipfs", names)
                swarm.start()
            return cls._set_up(config, chain, swarm, launch=launch)
        except BaseException:
            if swarm is not None:
                swarm.close()
            chain.close()
            raise

    @classmethod
    def _set_up(cls, config: DemoConfig, chain: AnvilChain, swarm: IpfsSwarm | None, *,
                launch: bool) -> DemoRun:
        workdir = config.workdir
        requester = chain.accounts[0]
        deployment, market = deploy_market(chain.w3, sender=requester, rpc_url=chain.rpc_url)
        deployment.save(workdir / "deployment.json")
        own = swarm[REQUESTER_NODE].api_url if swarm is not None else None
        store = open_store(own or config.ipfs or str(workdir / "store"))
        manifest = preset_manifest(config.preset, rounds=config.rounds,
                                   aggregation=config.aggregation,
                                   committee_size=config.committee, quorum=config.quorum,
                                   privacy=config.privacy, dp=config.dp,
                                   **distributed_schedule(
                                       config.dp, PRESETS[config.preset]["max_samples"]))
        setup = DataSplit(partition=config.partition, column="Region",
                          n_clients=config.participants)
        clients = build_clients(manifest, setup)
        if not 1 <= config.participants <= len(clients):
            raise NodeError(f"--participants must be 1..{len(clients)}")
        clients = clients[:config.participants]
        table, schema = load_pooled(manifest, setup)
        parts = partition_rows(table, schema, setup, derive_seed(manifest.seed, "partition"))
        shards = write_shards(table, {c.client_id: parts[c.client_id] for c in clients},
                              workdir / "data")
        write_held_out(table, {c.client_id: parts[c.client_id] for c in clients}, manifest,
                       workdir / HELD_OUT_FILE)
        trainers = min(config.cohort or config.participants, config.participants)
        terms = TaskTerms(bounty=config.bounty_wei, max_participants=config.participants,
                          max_retries=config.max_retries, min_submissions=max(1, trainers // 2),
                          join_duration=600, cohort_size=config.cohort)
        posted = post_task(market, store, manifest, terms, sender=requester)
        run = cls(config, chain, deployment, market, store, posted, clients, swarm=swarm)
        for index, (client, account) in enumerate(zip(clients, chain.accounts[1:]), 1):
            keyfile = write_keystore(account, workdir / "keys" / f"{client.client_id}.json",
                                     DEMO_PASSWORD)
            ipfs = swarm[f"shop-{index}"].api_url if swarm is not None else None
            run.nodes.append(NodeProcess(client.client_id, account, shards[client.client_id],
                                         keyfile, workdir / "logs" / f"{client.client_id}.log",
                                         ipfs=ipfs))
        if launch:
            for index in range(len(run.nodes)):
                run.launch(index)
        return run

    # ------------------------------------------------------------------ processes

    def node_command(self, node: NodeProcess) -> list[str]:
        ipfs = node.ipfs or self.config.ipfs
        store = ["--ipfs", ipfs] if ipfs else ["--store", str(self.config.workdir / "store")]
        return [sys.executable, "-m", "node.cli.app", "node", "run",
                "--deployment", str(self.config.workdir / "deployment.json"),
                *store, "--task", str(self.posted.task), "--key", str(node.keyfile),
                "--data", str(node.data), "--client-id", node.client_id,
                "--home", str(self.config.workdir / "nodes" / node.client_id),
                "--wake", self.config.wake,
                *(["--misbehave", node.misbehave] if node.misbehave else []),
                *(["--keep-rounds", str(self.config.keep_rounds)] if self.config.keep_rounds
                  else [])]

    def launch(self, index: int) -> None:
        """Start (or restart) participant ``index``'s process."""
        node = self.nodes[index]
        env = {**os.environ, PASSWORD_ENV: DEMO_PASSWORD, "PYTHONUNBUFFERED": "1"}
        with open(node.log, "ab") as log:
            node.process = subprocess.Popen(self.node_command(node), stdout=log,
                                            stderr=subprocess.STDOUT, env=env)
        node.launches += 1

    def kill(self, index: int) -> None:
        """SIGKILL participant ``index`` (no clean-up of any kind)."""
        process = self.nodes[index].process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def checked_rounds(self) -> dict[str, int]:
        """The last round each running node reports checked (its ``--home`` record)."""
        return {n.account.address: read_checked(self.config.workdir / "nodes" / n.client_id,
                                                 self.posted.task)
                for n in self.nodes if n.process is not None and n.process.poll() is None}

    def live_addresses(self) -> set[str]:
        return {n.account.address for n in self.nodes
                if n.process is not None and n.process.poll() is None}

    # ------------------------------------------------------------------ the run

    def drive(self, *, on_progress: Callable[[RoundProgress, str | None], None] | None = None,
              until: Callable[[RoundProgress], bool] | None = None,
              poll_seconds: float = 0.5) -> RoundProgress:
        """Keep time until the task is over (or ``until`` says stop); returns the last view."""
        reveals = (self.deployment.seed_reveals_at(self.chain.w3)
                   if self.config.privacy == "secure" else None)
        keeper = TimeKeeper(self.chain, self.market, self.posted.task,
                            live=self.live_addresses, stall_seconds=self.config.stall_seconds,
                            seed_reveals=reveals, checked=self.checked_rounds,
                            min_survivors=self.config.dp.noise_shares if self.config.dp else 1)
        deadline = time.monotonic() + self.config.timeout
        heads = NewHeads(self.chain.rpc_url) if self.config.wake == "blocks" else None
        try:
            return self._keep_time(keeper, deadline, on_progress, until, poll_seconds,
                                   heads.wait if heads is not None else time.sleep)
        finally:
            if heads is not None:
                heads.close()

    def _keep_time(self, keeper: TimeKeeper, deadline: float,
                   on_progress: Callable[[RoundProgress, str | None], None] | None,
                   until: Callable[[RoundProgress], bool] | None, poll_seconds: float,
                   idle: Callable[[float], object]) -> RoundProgress:
        # The keeper reacts to each block (a node's last action of a phase) when it can.
        while True:
            progress, jump = keeper.tick()
            if on_progress is not None:
                on_progress(progress, jump)
            if until is not None and until(progress):
                return progress
            terminal = progress.state.phase in (Phase.FINISHED, Phase.CLOSED, Phase.CANCELLED)
            if terminal and self.market.ended(self.posted.task) and not self.live_addresses():
                return progress
            if time.monotonic() > deadline:
                raise NodeError(f"demo did not finish within {self.config.timeout:.0f} s; "
                                f"see {self.config.workdir / 'logs'}")
            # A challenge window ends on the nodes' checked records, which no block announces:
            # look at them often (reading them is cheap).
            window = progress.state.phase in (Phase.PENDING, Phase.FINISHED) \
                and progress.state.round > 1
            idle(CHECKED_POLL_SECONDS if window else poll_seconds)

    def wait_nodes(self, timeout: float = 60.0) -> dict[str, int | None]:
        """Wait for every node process to exit; returns exit codes by participant."""
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait()
        return {n.client_id: (n.process.returncode if n.process else None) for n in self.nodes}

    def close(self, *, keep_ipfs: bool = False) -> None:
        """Stop every node, then the chain (which dumps its state into the work directory),
        then the IPFS nodes unless ``keep_ipfs`` (the caller audits through them first and
        closes ``swarm`` itself)."""
        for index in range(len(self.nodes)):
            self.kill(index)
        self.store.close()
        self.chain.close()
        if self.swarm is not None and not keep_ipfs:
            self.swarm.close()

    def write_rounds(self, rounds: list[dict]) -> Path:
        path = self.config.workdir / "rounds.json"
        path.write_text(json.dumps({"task": self.posted.task, "rounds": rounds}, indent=2) + "\n")
        return path
