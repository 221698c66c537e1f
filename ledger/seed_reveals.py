"""Typed client for the ``SeedReveals`` contract: survivors' seed reveals of secure rounds.

    reveals = SeedReveals.deploy(chain, market.address, sender=deployer)
    reveals.reveal(task, round_, reveal_cid, sender=alice)     # recovery window only
    for r in reveals.reveals(task, round_, attempt):           # SeedsRevealed, chain order
        print(r.member, r.cid)

A reveal is accepted from a member that submitted in the round, once per (round, attempt),
during the attempt's recovery window: ``[attestEnd, attestEnd + (commitEnd - attestEnd) / 2)``
(:func:`recovery_window`). Reverts raise the custom error's class
(``ledger.chain.custom_error("SeedRevealsWindowClosed")``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from ledger.chain import ChainBackend, Contract
from ledger.cid import Cid, cid_from_chain
from ledger.market_types import RoundState

__all__ = ["CONTRACT_NAME", "SeedReveal", "SeedReveals", "recovery_window"]

CONTRACT_NAME = "SeedReveals"


def recovery_window(state: RoundState) -> tuple[int, int]:
    """``[start, end)`` of the attempt's recovery window, as the contract computes it."""
    return state.attest_end, state.attest_end + (state.commit_end - state.attest_end) // 2


@dataclass(frozen=True)
class SeedReveal:
    """A ``SeedsRevealed`` event. ``cid`` is None when the pair names no supported CID."""

    task: int
    round: int
    member: str
    attempt: int
    digest: bytes
    codec: int

    @property
    def cid(self) -> Cid | None:
        """The CID, or None when the on-chain pair names no supported CID."""
        return cid_from_chain(self.digest, self.codec)

    @classmethod
    def from_event(cls, args: dict[str, Any]) -> SeedReveal:
        return cls(int(args["task"]), int(args["round"]), str(args["member"]),
                   int(args["attempt"]), bytes(args["digest"]), int(args["codec"]))


class SeedReveals:
    """One deployed SeedReveals contract.

    Attributes:
        contract: the underlying ``ledger.chain.Contract``.
        address: its checksum address.
    """

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.address = contract.address

    @classmethod
    def deploy(cls, chain: ChainBackend | Web3, market: str, *, sender: LocalAccount) -> SeedReveals:
        """Deploy for the FedMarket at ``market``.

        Raises:
            ContractCustomError: SeedRevealsNotAContract.
        """
        return cls(Contract.deploy(chain, CONTRACT_NAME, Web3.to_checksum_address(market),
                                   sender=sender))

    @classmethod
    def at(cls, chain: ChainBackend | Web3, address: str) -> SeedReveals:
        """The contract deployed at ``address``."""
        return cls(Contract.at(chain, CONTRACT_NAME, address))

    def market(self) -> str:
        """The market this contract serves."""
        return str(self.contract.call("market"))

    def reveal(self, task: int, round_: int, reveal: Cid, *, sender: LocalAccount) -> TxReceipt:
        """Register the sender's seed-reveal file for the current attempt of ``round_``.

        Raises:
            ContractCustomError: a ``SeedReveals*`` error (wrong round, window closed, not a
                submitter, already revealed, zero digest).
        """
        return self.contract.transact("reveal", task, round_, reveal.digest, reveal.codec,
                                      sender=sender)

    def revealed(self, task: int, round_: int, attempt: int, account: str) -> bool:
        """Whether ``account`` revealed in (round, attempt)."""
        return bool(self.contract.call("revealed", task, round_, attempt,
                                       Web3.to_checksum_address(account)))

    def reveals(self, task: int, round_: int, attempt: int | None = None,
                from_block: int = 0) -> list[SeedReveal]:
        """The round's ``SeedsRevealed`` events in chain order (of one attempt if given)."""
        events = self.contract.events("SeedsRevealed", from_block, task=task, round=round_)
        found = [SeedReveal.from_event(e["args"]) for e in events]
        return [r for r in found if attempt is None or r.attempt == attempt]
