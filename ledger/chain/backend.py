"""The chain backend seam: one interface, several chains behind it.

Implementations: ``AnvilChain`` (an anvil process over HTTP), ``PyEvmChain`` (py-evm in
process, for unit tests), ``RpcChain`` (any JSON-RPC URL, no development powers). Code that
only reads and sends transactions takes a ``ChainBackend`` (or just its ``w3``); tests use
the development powers (time travel, mining, snapshots).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.chain.nonces import NonceTracker, tracker_for
from ledger.chain.raw_rpc import raw_result
from ledger.closing import Closing

__all__ = ["ChainBackend"]


class ChainBackend(Closing, ABC):
    """A chain to talk to.

    Attributes:
        w3: the connected Web3 object.
        chain_id: the chain id.
        accounts: funded accounts with their private keys (empty on a real network unless
            given).
    """

    w3: Web3
    chain_id: int
    accounts: list[LocalAccount]

    @property
    def nonces(self) -> NonceTracker:
        """The nonce tracker every ``Contract`` on this chain shares."""
        return tracker_for(self.w3)

    def timestamp(self) -> int:
        """Timestamp of the latest block, in seconds."""
        block = raw_result(self.w3, "eth_getBlockByNumber", ["latest", False])
        if isinstance(block, dict) and isinstance(block.get("timestamp"), str):
            return int(block["timestamp"], 16)  # web3's block formatting costs 3x the request
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def block_number(self) -> int:
        """Number of the latest block."""
        return int(self.w3.eth.block_number)

    @abstractmethod
    def increase_time(self, seconds: int) -> None:
        """Mine one block exactly ``seconds`` after the latest one.

        Afterwards ``timestamp()`` has grown by exactly ``seconds`` on every backend.

        Raises:
            UnsupportedOperation: the backend has no development powers.
        """

    @abstractmethod
    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` empty blocks.

        Raises:
            UnsupportedOperation: the backend has no development powers.
        """

    @abstractmethod
    def snapshot(self) -> object:
        """Remember the chain state; pass the result to ``revert`` (once).

        Raises:
            UnsupportedOperation: the backend has no development powers.
        """

    def revert(self, snapshot: object) -> None:
        """Return to a snapshot's state; it is used up (take a new one to revert again).

        Nonces move back with the chain, so the shared nonce tracker is reset too.

        Raises:
            UnsupportedOperation: the backend has no development powers.
            ChainError: the snapshot is unknown or already used.
        """
        try:
            self._revert(snapshot)
        finally:
            self.nonces.reset()

    @abstractmethod
    def _revert(self, snapshot: object) -> None:
        """Backend-specific part of ``revert``."""

    def close(self) -> None:
        """Release what the backend holds (processes, connections). Idempotent."""
