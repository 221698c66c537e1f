"""Typed client for the ``FedMarket`` contract: every external function and view, Python types.

    market = FedMarket.deploy(chain, sender=deployer)
    task = market.create_task(params, sender=requester)
    market.join(task, pubkey, sender=alice)              # pays the minimum stake (or stake=...)
    state = market.round_state(task)                     # what to do now
    market.submit_update(task, state.round, update_cid, 600, sender=alice)

Protocol (``contracts/market/*.sol`` NatSpec): ``round_state`` says which window of the round's
attempt is open; anyone draws a sampled task's cohort in the train window (``draw_cohort``) and
locks the attempt's seed after it (``lock_seed``: ``seats_of``, ``ledger.committee``). A finalized
round can be challenged until its window closes; nothing of it is payable before. Four contracts
(FedMarket and its modules) share one merged ABI here; reverts raise the custom error's class.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from ledger.chain import ChainBackend, Contract
from ledger.chain.prepared_read import PreparedRead
from ledger.cid import Cid
from ledger.market_artifact import CONTRACT_NAME, market_artifact
from ledger.market_types import (
    DISPUTE_ATTEMPT,
    DISPUTE_VOTE,
    ROUND_VOTE,
    DisputeInfo,
    DisputeState,
    LineageEntry,
    MemberInfo,
    NodeState,
    Phase,
    RoundState,
    TaskInfo,
    TaskParams,
    Update,
    commitment_hash,
    counted_head,
)

__all__ = ["CONTRACT_NAME", "LOCK_GAS_LIMIT", "REVEAL_GAS_LIMIT", "SUBMIT_GAS_LIMIT", "FedMarket"]

LOCK_GAS_LIMIT = 150_000  # lockSeed (~110k), lockDisputeSeed, drawCohort: the first pays more
REVEAL_GAS_LIMIT = 200_000  # any reveal: the finalizing one writes three pre-initialised slots
SUBMIT_GAS_LIMIT = 150_000  # submitUpdate (~45k; ~55k with a cohort): one per member a round
_ERC20_ABI_ARTIFACT = "TestToken"  # a plain OpenZeppelin ERC20: its ABI covers approve/balanceOf


class FedMarket:
    """One deployed FedMarket.

    Attributes:
        contract: the underlying ``ledger.chain.Contract``.
        address: its checksum address.
    """

    def __init__(self, contract: Contract) -> None:
        """Wrap a ``Contract`` built with ``market_artifact()`` (``deploy`` and ``at`` do)."""
        self.contract = contract
        self.address = contract.address
        self.w3: Web3 = contract.w3
        self._chain_id: int | None = None
        self._reads: dict[tuple[Any, ...], PreparedRead] = {}

    @classmethod
    def deploy(cls, chain: ChainBackend | Web3, *, sender: LocalAccount) -> FedMarket:
        """Deploy the modules (views first), then the market (TransactionReverted: it failed)."""
        views = Contract.deploy(chain, "FedMarketViews", sender=sender)
        disputes = Contract.deploy(chain, "FedMarketDisputes", views.address, sender=sender)
        lifecycle = Contract.deploy(chain, "FedMarketLifecycle", disputes.address, sender=sender)
        core = Contract.deploy(chain, CONTRACT_NAME, lifecycle.address, sender=sender)
        return cls(Contract(core.w3, market_artifact(), core.address))

    @classmethod
    def at(cls, chain: ChainBackend | Web3, address: str) -> FedMarket:
        """The market deployed at ``address``."""
        core = Contract.at(chain, CONTRACT_NAME, address)
        return cls(Contract(core.w3, market_artifact(), core.address))

    @property
    def chain_id(self) -> int:
        """The chain id commitments are bound to (asked once)."""
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def commitment(self, task: int, round_: int, attempt: int, model: Cid, rewards_root: bytes,
                   salt: bytes, sender: str, *, dispute: bool = False) -> bytes:
        """The commitment ``commit`` (or ``dispute_commit``) expects for this vote."""
        return commitment_hash(model, rewards_root, salt, sender, chain_id=self.chain_id,
                               market=self.address, task=task, round_=round_,
                               attempt=DISPUTE_ATTEMPT if dispute else attempt,
                               kind=DISPUTE_VOTE if dispute else ROUND_VOTE)

    def _tx(self, fn: str, *args: Any, sender: LocalAccount, value: int = 0,
            gas: int | None = None) -> TxReceipt:
        return self.contract.transact(fn, *args, sender=sender, value=value, gas=gas)

    def _erc20(self, token: str) -> Contract:
        return Contract.at(self.w3, _ERC20_ABI_ARTIFACT, token)

    # ---------------------------------------------------------------- requester

    def create_task(self, params: TaskParams, *, sender: LocalAccount, approve: bool = True) -> int:
        """Create a task, paying the bounty (msg.value, or an ERC-20 ``approve`` + transferFrom).

        Returns:
            The new task id.

        Raises:
            ContractCustomError: a ``FedMarket*`` validation error (e.g. FedMarketBadQuorum).
        """
        value = params.bounty if params.is_eth else 0
        if not params.is_eth and approve:
            self._erc20(params.token).transact("approve", self.address, params.bounty, sender=sender)
        receipt = self._tx("createTask", params.to_abi(), sender=sender, value=value)
        [event] = self.events_in(receipt, "TaskCreated")
        return int(event["args"]["task"])

    def cancel_task(self, task: int, *, sender: LocalAccount) -> TxReceipt:
        """Cancel before round 1 starts; the bounty goes back to the requester."""
        return self._tx("cancelTask", task, sender=sender)

    def sweep(self, task: int, *, sender: LocalAccount) -> TxReceipt:
        """Pay the requester what an ended task owes it (anyone may call; again after new slashes)."""
        return self._tx("sweep", task, sender=sender)

    # ---------------------------------------------------------------- members

    def join(self, task: int, pubkey: bytes, *, sender: LocalAccount, stake: int | None = None,
             approve: bool = True) -> TxReceipt:
        """Join with ``stake`` (default: the task's minimum; ETH value, or ERC-20 approve + transferFrom)."""
        params = self.task_info(task).params
        amount = params.min_stake if stake is None else stake
        if params.is_eth:
            return self._tx("join", task, pubkey, amount, sender=sender, value=amount)
        if approve:
            self._erc20(params.token).transact("approve", self.address, amount, sender=sender)
        return self._tx("join", task, pubkey, amount, sender=sender)

    def submit_update(
        self, task: int, round_: int, update: Cid, num_samples: int, *, sender: LocalAccount
    ) -> TxReceipt:
        """Register an update for ``round_`` (train phase, once per member per round)."""
        return self._tx("submitUpdate", task, round_, update.digest, update.codec, num_samples,
                        sender=sender, gas=SUBMIT_GAS_LIMIT)

    def draw_cohort(self, task: int, *, sender: LocalAccount) -> TxReceipt:
        """Draw the current round's cohort (train window; a no-op once drawn)."""
        return self._tx("drawCohort", task, sender=sender, gas=LOCK_GAS_LIMIT)

    def lock_seed(self, task: int, *, sender: LocalAccount) -> TxReceipt:
        """Fix the current attempt's seed (attest or commit window; a no-op once locked)."""
        return self._tx("lockSeed", task, sender=sender, gas=LOCK_GAS_LIMIT)

    def commit(
        self, task: int, round_: int, attempt: int, model: Cid, rewards_root: bytes, salt: bytes, *,
        sender: LocalAccount,
    ) -> TxReceipt:
        """Commit to (model, rewards root) in the commit phase (hash computed here with ``salt``)."""
        commitment = self.commitment(task, round_, attempt, model, rewards_root, salt, sender.address)
        return self._tx("commit", task, round_, commitment, sender=sender)

    def commit_raw(self, task: int, round_: int, commitment: bytes, *, sender: LocalAccount) -> TxReceipt:
        """Commit an already computed commitment hash."""
        return self._tx("commit", task, round_, commitment, sender=sender)

    def reveal(self, task: int, round_: int, attempt: int, model: Cid, rewards_root: bytes,
               salt: bytes, *, sender: LocalAccount) -> TxReceipt:
        """Open the caller's commitment in the attempt's reveal window (fixed gas: whether it
        completes the quorum, and pays for finalization, depends on which reveals land first)."""
        return self._tx(
            "reveal", task, round_, attempt, model.digest, model.codec, rewards_root, salt,
            sender=sender, gas=REVEAL_GAS_LIMIT,
        )

    def settle(self, task: int, account: str, *, sender: LocalAccount) -> TxReceipt:
        """Settle ``account``'s votes whose outcome is final (fee or slash; anyone may call)."""
        return self._tx("settle", task, account, sender=sender)

    def slash_absent(self, task: int, account: str, round_: int, attempt: int, *,
                     sender: LocalAccount) -> TxReceipt:
        """Slash a seat holder of (round, attempt) that did not commit (anyone may call)."""
        return self._tx("slashAbsent", task, account, round_, attempt, sender=sender)

    # ---------------------------------------------------------------- disputes

    def challenge(self, task: int, round_: int, model: Cid, rewards_root: bytes, *,
                  sender: LocalAccount, approve: bool = True) -> TxReceipt:
        """Challenge the last finalized round with the task's bond and an alternative result."""
        params = self.task_info(task).params
        value = params.challenge_bond if params.is_eth else 0
        if not params.is_eth and approve:
            self._erc20(params.token).transact("approve", self.address, params.challenge_bond,
                                               sender=sender)
        return self._tx("challenge", task, round_, model.digest, model.codec, rewards_root,
                        sender=sender, value=value)

    def lock_dispute_seed(self, task: int, round_: int, *, sender: LocalAccount) -> TxReceipt:
        """Fix the dispute committee's seed (a block after the challenge; a no-op once locked).

        Fixed gas: on a dev chain mining on demand, an estimate runs in the challenge's own
        block and reverts (FedMarketSeedTooEarly); the transaction lands in the next one."""
        return self._tx("lockDisputeSeed", task, round_, sender=sender, gas=LOCK_GAS_LIMIT)

    def dispute_commit(self, task: int, round_: int, model: Cid, rewards_root: bytes, salt: bytes,
                       *, sender: LocalAccount) -> TxReceipt:
        """Commit a dispute seat holder to its own recomputation of ``round_``."""
        commitment = self.commitment(task, round_, DISPUTE_ATTEMPT, model, rewards_root, salt,
                                     sender.address, dispute=True)
        return self._tx("disputeCommit", task, round_, commitment, sender=sender)

    def dispute_reveal(self, task: int, round_: int, model: Cid, rewards_root: bytes, salt: bytes,
                       *, sender: LocalAccount) -> TxReceipt:
        """Open a dispute commitment in the dispute's reveal window."""
        return self._tx("disputeReveal", task, round_, model.digest, model.codec, rewards_root,
                        salt, sender=sender, gas=REVEAL_GAS_LIMIT)

    def resolve_dispute(self, task: int, round_: int, model: Cid | None = None,
                        rewards_root: bytes = bytes(32), *, sender: LocalAccount) -> TxReceipt:
        """End a dispute after its reveal window; ``model``/``rewards_root``: the leader (for an overturn)."""
        digest, codec = (model.digest, model.codec) if model is not None else (bytes(32), 0)
        return self._tx("resolveDispute", task, round_, digest, codec, rewards_root, sender=sender)

    def slash_dispute_absent(self, task: int, account: str, round_: int, *,
                             sender: LocalAccount) -> TxReceipt:
        """Slash a dispute seat holder that did not commit."""
        return self._tx("slashDisputeAbsent", task, account, round_, sender=sender)

    def withdraw_stake(self, task: int, *, sender: LocalAccount) -> TxReceipt:
        """Withdraw stake + fees - slashes once the task ended."""
        return self._tx("withdrawStake", task, sender=sender)

    def claim(self, task: int, round_: int, account: str, amount: int, proof: list[bytes], *,
              sender: LocalAccount) -> TxReceipt:
        """Claim ``account``'s reward of a finalized round with its Merkle proof."""
        return self._tx("claim", task, round_, account, amount, proof, sender=sender)

    def claim_rounds(self, task: int, account: str, claims: list[tuple[int, int, list[bytes]]],
                     *, sender: LocalAccount) -> TxReceipt:
        """Claim ``account``'s rewards of several rounds at once: ``(round, amount, proof)``
        each, all or nothing, one payment."""
        return self._tx("claimRounds", task, account, [c[0] for c in claims],
                        [c[1] for c in claims], [c[2] for c in claims], sender=sender)

    # ---------------------------------------------------------------- views

    def task_count(self) -> int:
        """Number of tasks (ids 1..count)."""
        return int(self.contract.call("taskCount"))

    def task_info(self, task: int) -> TaskInfo:
        """Parameters, requester, round 1 start."""
        params, requester, start = self.contract.call("taskInfo", task)
        return TaskInfo(TaskParams.from_abi(params), requester, int(start))

    def phase(self, task: int) -> Phase:
        """The task's phase now."""
        return Phase(self.contract.call("phase", task))

    def current_round(self, task: int) -> int:
        """The round being worked on (rounds + 1 once finished)."""
        return int(self.contract.call("currentRound", task))

    def round_state(self, task: int) -> RoundState:
        """Round, attempt, phase, windows, submissions, commitment, seed and parent model now."""
        return RoundState.from_abi(self._prepared("roundState", task)[0])

    def node_state(self, task: int, account: str) -> NodeState:
        """Round state, ``account``'s record, whether it trains now, block time: one read."""
        return NodeState.from_abi(self._prepared("nodeState", task, account))

    def _prepared(self, fn: str, *args: Any) -> tuple[Any, ...]:
        # The views read every block are prepared once (``ledger.chain.prepared_read``).
        key = (fn, *args)
        if key not in self._reads:
            self._reads[key] = self.contract.prepare(fn, *args)
        return self._reads[key]()

    def end_time(self, task: int) -> tuple[int, int]:
        """(when the task ended or 0, its claim deadline or 2**256 - 1 while it runs)."""
        end, deadline = self.contract.call("endTime", task)
        return int(end), int(deadline)

    def ended(self, task: int) -> bool:
        """Whether stake withdrawal and the sweep are open."""
        return self.end_time(task)[0] != 0

    def member(self, task: int, account: str) -> MemberInfo:
        """A member's state."""
        return MemberInfo.from_abi(self.contract.call("member", task, account))

    def members(self, task: int) -> list[str]:
        """All members in join order."""
        return list(self.contract.call("members", task))

    def pubkey(self, task: int, account: str) -> bytes:
        """A member's registered public key (b"" for strangers)."""
        return bytes(self.contract.call("pubkey", task, account))

    def last_draw(self, task: int) -> tuple[int, int, bool, bytes, int]:
        """(round, attempt, locked, seed, total stake) of the latest locked draw."""
        round_, attempt, locked, seed, total = self.contract.call("lastDraw", task)
        return int(round_), int(attempt), bool(locked), bytes(seed), int(total)

    def cohort_seed(self, task: int, round_: int) -> bytes:
        """Round ``round_``'s cohort seed (zero bytes until drawn, or without a cohort)."""
        return bytes(self.contract.call("cohortSeed", task, round_))

    def in_cohort(self, task: int, account: str) -> bool:
        """Whether ``account`` may submit in the current round (member, and drawn if sampled)."""
        return bool(self.contract.call("inCohort", task, account))

    def seats_of(self, task: int, account: str) -> int:
        """Seats ``account`` holds in the latest locked draw."""
        return int(self.contract.call("seatsOf", task, account))

    def committee(self, task: int) -> list[str]:
        """Seat owners of the latest locked draw, seat by seat."""
        return list(self.contract.call("committee", task))

    def dispute_committee(self, task: int, round_: int) -> list[str]:
        """Seat owners of ``round_``'s dispute committee (empty before its seed is locked)."""
        return list(self.contract.call("disputeCommittee", task, round_))

    def dispute(self, task: int, round_: int) -> DisputeInfo:
        """``round_``'s dispute (state NONE if never challenged)."""
        return DisputeInfo.from_abi(self.contract.call("dispute", task, round_))

    def round_settled(self, task: int, round_: int) -> bool:
        """Whether ``round_`` is payable: finalized, window closed, any dispute resolved."""
        return bool(self.contract.call("roundSettled", task, round_))

    def finalized_round(self, task: int, round_: int) -> LineageEntry:
        """The lineage entry of a finalized round (raises FedMarketRoundNotFinalized otherwise)."""
        return LineageEntry.from_view(round_, self._prepared("finalizedRound", task, round_)[0])

    def votes_for(self, task: int, round_: int, attempt: int, model: Cid, rewards_root: bytes) -> int:
        """How many reveals of (model, rewards root) in (round, attempt)."""
        return int(
            self.contract.call("votesFor", task, round_, attempt, model.digest, model.codec, rewards_root)
        )

    def claimed(self, task: int, round_: int, account: str) -> bool:
        """Whether ``account`` claimed its reward of ``round_``."""
        return bool(self._prepared("claimed", task, round_, account)[0])

    def round_paid(self, task: int, round_: int) -> int:
        """Rewards paid so far for ``round_``."""
        return int(self.contract.call("roundPaid", task, round_))

    def funds(self, task: int) -> tuple[int, int, int, int]:
        """(slash pool incl. forfeited bonds, swept to the requester, rewards paid, fees earned)."""
        pool, swept, paid, fees = self.contract.call("funds", task)
        return int(pool), int(swept), int(paid), int(fees)

    # ---------------------------------------------------------------- events

    def updates(self, task: int, round_: int, from_block: int = 0) -> list[Update]:
        """The round's accepted updates in submission (chain) order."""
        events = self.contract.events("UpdateSubmitted", from_block, task=task, round=round_)
        return [Update.from_event(e["args"]) for e in events]

    def lineage(self, task: int, from_block: int = 0) -> list[LineageEntry]:
        """Every finalized round from events alone (an overturn's ``DisputeResolved`` applied)."""
        [created] = self.contract.events("TaskCreated", from_block, task=task)
        params = TaskParams.from_abi(tuple(created["args"]["params"].values()))
        resolved = {int(e["args"]["round"]): e["args"]
                    for e in self.contract.events("DisputeResolved", from_block, task=task)}
        updates: dict[int, list[dict[str, Any]]] = {}
        for e in self.contract.events("UpdateSubmitted", from_block, task=task):
            updates.setdefault(int(e["args"]["round"]), []).append(e["args"])
        entries, parent = [], params.genesis
        for event in self.contract.events("ModelFinalized", from_block, task=task):
            a = event["args"]
            head = counted_head(updates.get(int(a["round"]), []), int(a["submissions"]))
            entry = LineageEntry.from_event(a, parent=parent, budget=params.round_budget(a["round"]),
                                            update_commitment=head)
            if entry.round in resolved:
                r = resolved[entry.round]
                entry = replace(entry, model=Cid(int(r["modelCodec"]), bytes(r["modelDigest"])),
                                rewards_root=bytes(r["rewardsRoot"]),
                                dispute=DisputeState(r["outcome"]))
            entries.append(entry)
            parent = entry.model
        return entries

    def events_in(self, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
        """The ``name`` events one transaction emitted."""
        block = int(receipt["blockNumber"])
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        return [e for e in self.contract.events(name, block, block) if e["tx_hash"] == tx_hash]

