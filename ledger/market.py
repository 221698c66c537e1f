"""Typed client for the ``FedMarket`` contract: every external function and view, Python types.

    market = FedMarket.deploy(chain, sender=deployer)
    task = market.create_task(params, sender=requester)
    market.join(task, pubkey, sender=alice)              # pays the stake (approves for ERC-20)
    state = market.round_state(task)                     # what to do now
    market.submit_update(task, state.round, update_cid, 600, sender=alice)

Protocol summary (see ``contracts/market/*.sol`` NatSpec): each attempt of a round has a train,
commit and reveal window derived from block timestamps; ``round_state`` says which one is open.
Committee membership for (round, attempt): ``is_committee_member`` or, off chain,
``ledger.committee.draw_committee(committee_seed(...), members(task), k)``. Reverts raise the
custom error's class (``ledger.chain.custom_error("FedMarketWrongPhase")``).
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from ledger.chain import ChainBackend, Contract
from ledger.cid import Cid
from ledger.market_types import (
    LineageEntry,
    MemberInfo,
    Phase,
    RoundState,
    TaskInfo,
    TaskParams,
    Update,
    commitment_hash,
)

__all__ = ["CONTRACT_NAME", "REVEAL_GAS_LIMIT", "FedMarket"]

CONTRACT_NAME = "FedMarket"
REVEAL_GAS_LIMIT = 600_000
"""Covers a finalizing reveal with the largest quorum (11 fee credits); ~220k at quorum 3."""
_ERC20_ABI_ARTIFACT = "TestToken"  # a plain OpenZeppelin ERC20: its ABI covers approve/balanceOf


class FedMarket:
    """One deployed FedMarket.

    Attributes:
        contract: the underlying ``ledger.chain.Contract``.
        address: its checksum address.
    """

    def __init__(self, contract: Contract) -> None:
        """Wrap a ``Contract`` built from the ``FedMarket`` artifact."""
        self.contract = contract
        self.address = contract.address
        self.w3: Web3 = contract.w3

    @classmethod
    def deploy(cls, chain: ChainBackend | Web3, *, sender: LocalAccount) -> FedMarket:
        """Deploy a new market.

        Raises:
            TransactionReverted: deployment failed.
        """
        return cls(Contract.deploy(chain, CONTRACT_NAME, sender=sender))

    @classmethod
    def at(cls, chain: ChainBackend | Web3, address: str) -> FedMarket:
        """The market deployed at ``address``."""
        return cls(Contract.at(chain, CONTRACT_NAME, address))

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
        [event] = self._events_in(receipt, "TaskCreated")
        return int(event["args"]["task"])

    def cancel_task(self, task: int, *, sender: LocalAccount) -> TxReceipt:
        """Cancel before round 1 starts; the bounty goes back to the requester."""
        return self._tx("cancelTask", task, sender=sender)

    def refund(self, task: int, *, sender: LocalAccount) -> TxReceipt:
        """Send the unspent bounty of an ended task to its requester (anyone may call)."""
        return self._tx("refund", task, sender=sender)

    # ---------------------------------------------------------------- members

    def join(self, task: int, pubkey: bytes, *, sender: LocalAccount, approve: bool = True) -> TxReceipt:
        """Join with the task's stake (ETH value, or ERC-20 approve + transferFrom)."""
        params = self.task_info(task).params
        if params.is_eth:
            return self._tx("join", task, pubkey, sender=sender, value=params.stake)
        if approve:
            self._erc20(params.token).transact("approve", self.address, params.stake, sender=sender)
        return self._tx("join", task, pubkey, sender=sender)

    def submit_update(
        self, task: int, round_: int, update: Cid, num_samples: int, *, sender: LocalAccount
    ) -> TxReceipt:
        """Register an update for ``round_`` (train phase, once per member per round)."""
        return self._tx("submitUpdate", task, round_, update.digest, update.codec, num_samples, sender=sender)

    def commit(
        self, task: int, round_: int, model: Cid, rewards_root: bytes, salt: bytes, *, sender: LocalAccount
    ) -> TxReceipt:
        """Commit to (model, rewards root) in the commit phase (hash computed here with ``salt``)."""
        commitment = commitment_hash(model, rewards_root, salt, sender.address)
        return self._tx("commit", task, round_, commitment, sender=sender)

    def commit_raw(self, task: int, round_: int, commitment: bytes, *, sender: LocalAccount) -> TxReceipt:
        """Commit an already computed commitment hash."""
        return self._tx("commit", task, round_, commitment, sender=sender)

    def reveal(
        self,
        task: int,
        round_: int,
        attempt: int,
        model: Cid,
        rewards_root: bytes,
        salt: bytes,
        *,
        sender: LocalAccount,
    ) -> TxReceipt:
        """Open the caller's commitment in the attempt's reveal window.

        The gas limit is fixed, not estimated: whether this reveal is the one that completes
        the quorum (and pays for finalization, ~4x the gas) depends on which peers' reveals
        land first, which an estimate made a moment earlier cannot know. Unused gas is not
        charged.
        """
        return self._tx(
            "reveal", task, round_, attempt, model.digest, model.codec, rewards_root, salt,
            sender=sender, gas=REVEAL_GAS_LIMIT,
        )

    def settle(self, task: int, account: str, *, sender: LocalAccount) -> TxReceipt:
        """Settle ``account``'s last vote (slash or fee) after its reveal window (anyone may call)."""
        return self._tx("settle", task, account, sender=sender)

    def withdraw_stake(self, task: int, *, sender: LocalAccount) -> TxReceipt:
        """Withdraw stake + fees - slashes once the task ended."""
        return self._tx("withdrawStake", task, sender=sender)

    def claim(
        self, task: int, round_: int, account: str, amount: int, proof: list[bytes], *, sender: LocalAccount
    ) -> TxReceipt:
        """Claim ``account``'s reward of a finalized round with its Merkle proof."""
        return self._tx("claim", task, round_, account, amount, proof, sender=sender)

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
        return RoundState.from_abi(self.contract.call("roundState", task))

    def ended(self, task: int) -> bool:
        """Whether stake withdrawal and refunds are open."""
        return bool(self.contract.call("ended", task))

    def member(self, task: int, account: str) -> MemberInfo:
        """A member's state."""
        return MemberInfo.from_abi(self.contract.call("member", task, account))

    def members(self, task: int) -> list[str]:
        """All members in join order."""
        return list(self.contract.call("members", task))

    def pubkey(self, task: int, account: str) -> bytes:
        """A member's registered public key (b"" for strangers)."""
        return bytes(self.contract.call("pubkey", task, account))

    def committee_seed(self, task: int, round_: int, attempt: int) -> bytes:
        """The committee seed of (round, attempt)."""
        return bytes(self.contract.call("committeeSeed", task, round_, attempt))

    def committee(self, task: int, round_: int, attempt: int) -> list[str]:
        """The committee of (round, attempt), in draw order."""
        return list(self.contract.call("committee", task, round_, attempt))

    def is_committee_member(self, task: int, round_: int, attempt: int, account: str) -> bool:
        """Whether ``account`` sits on the committee of (round, attempt)."""
        return bool(self.contract.call("isCommitteeMember", task, round_, attempt, account))

    def finalized_round(self, task: int, round_: int) -> LineageEntry:
        """The lineage entry of a finalized round (raises FedMarketRoundNotFinalized otherwise)."""
        return LineageEntry.from_view(round_, self.contract.call("finalizedRound", task, round_))

    def votes_for(self, task: int, round_: int, attempt: int, model: Cid, rewards_root: bytes) -> int:
        """How many reveals of (model, rewards root) in (round, attempt)."""
        return int(
            self.contract.call("votesFor", task, round_, attempt, model.digest, model.codec, rewards_root)
        )

    def claimed(self, task: int, round_: int, account: str) -> bool:
        """Whether ``account`` claimed its reward of ``round_``."""
        return bool(self.contract.call("claimed", task, round_, account))

    def round_paid(self, task: int, round_: int) -> int:
        """Rewards paid so far for ``round_``."""
        return int(self.contract.call("roundPaid", task, round_))

    def funds(self, task: int) -> tuple[int, int]:
        """(unallocated bounty, slash pool)."""
        unallocated, slash_pool = self.contract.call("funds", task)
        return int(unallocated), int(slash_pool)

    # ---------------------------------------------------------------- events

    def updates(self, task: int, round_: int, from_block: int = 0) -> list[Update]:
        """The round's accepted updates in submission (chain) order."""
        events = self.contract.events("UpdateSubmitted", from_block, task=task, round=round_)
        return [Update.from_event(e["args"]) for e in events]

    def lineage(self, task: int, from_block: int = 0) -> list[LineageEntry]:
        """Every finalized round of ``task`` rebuilt from ``ModelFinalized`` events alone."""
        events = self.contract.events("ModelFinalized", from_block, task=task)
        return [LineageEntry.from_event(e["args"]) for e in events]

    def _events_in(self, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
        block = int(receipt["blockNumber"])
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        return [e for e in self.contract.events(name, block, block) if e["tx_hash"] == tx_hash]

