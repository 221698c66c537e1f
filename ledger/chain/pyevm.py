"""py-evm in process as a chain backend (unit tests: no process, no port).

Built on eth-tester's ``PyEVMBackend`` (Prague VM, the fork anvil is pinned to) behind
web3's ``EthereumTesterProvider``, with two adjustments so it behaves like anvil:

- the funded accounts are anvil's (same mnemonic and derivation path), so deployments get
  the same addresses on both backends;
- ``eth_call`` and ``eth_estimateGas`` answer a revert the way a node does (JSON-RPC error
  code 3 with the raw revert data). Stock eth-tester turns the data into a message string,
  which loses custom errors.

eth-tester is a test dependency: importing this module without it raises ImportError.
"""

from __future__ import annotations

from typing import Any

from eth.exceptions import Revert as EVMRevert
from eth.vm.forks.prague import PragueVM
from eth.vm.spoof import SpoofTransaction
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import _execute_and_revert_transaction
from eth_tester.exceptions import TransactionFailed
from eth_utils import to_wei
from web3 import EthereumTesterProvider, Web3

from ledger.chain.accounts import DEV_HD_PATH, DEV_MNEMONIC, dev_accounts
from ledger.chain.backend import ChainBackend
from ledger.chain.errors import ChainError

__all__ = ["PyEvmChain"]


class _ExecutionFailed(TransactionFailed):
    """A call failed inside py-evm; ``revert_data`` is the raw REVERT payload (or b"")."""

    def __init__(self, message: str, revert_data: bytes) -> None:
        super().__init__(message)
        self.revert_data = revert_data


class _RevertDataBackend(PyEVMBackend):
    """PyEVMBackend whose failed calls keep the raw revert data."""

    def call(self, transaction: dict, block_number: Any = "latest") -> bytes:
        tx = dict(transaction)
        tx.setdefault("gas", self._max_available_gas())
        unsigned = self._get_normalized_and_unsigned_evm_transaction(tx, block_number)
        spoofed = SpoofTransaction(unsigned, from_=transaction["from"])
        computation = _execute_and_revert_transaction(self.chain, spoofed, block_number)
        if computation.is_error:
            error = computation.error
            data = bytes(error.args[0]) if isinstance(error, EVMRevert) and error.args else b""
            raise _ExecutionFailed(f"execution reverted: {error!r}", data)
        return computation.output

    def estimate_gas(self, transaction: dict, block_number: Any = "latest") -> int:
        try:
            return super().estimate_gas(transaction, block_number)
        except TransactionFailed as err:
            # Estimation lost the data: run the same transaction as a call to get it back.
            self.call({k: v for k, v in transaction.items() if k != "gas"}, block_number)
            raise _ExecutionFailed(f"gas estimation failed: {err}", b"") from err


class _RevertDataProvider(EthereumTesterProvider):
    """Answers reverted eth_call / eth_estimateGas with a node-style error carrying data."""

    def make_request(self, method: Any, params: Any) -> Any:
        if method not in ("eth_call", "eth_estimateGas"):
            return super().make_request(method, params)
        tester = self.ethereum_tester
        assert tester is not None, "the provider has an EthereumTester once constructed"
        handler = tester.call if method == "eth_call" else tester.estimate_gas
        request_id = self._current_request_id
        self._current_request_id += 1
        try:
            result = handler(*params)
        except _ExecutionFailed as err:
            error = {
                "code": 3,
                "message": "execution reverted",
                "data": "0x" + err.revert_data.hex(),
            }
            return {"jsonrpc": "2.0", "id": request_id, "error": error}
        return {"jsonrpc": "2.0", "id": request_id, "result": result}


class PyEvmChain(ChainBackend):
    """An in-process py-evm chain with anvil's funded development accounts."""

    def __init__(self, *, accounts: int = 10, balance_eth: int = 10_000) -> None:
        """Create a fresh chain (genesis at the current wall-clock time).

        Args:
            accounts: how many funded development accounts.
            balance_eth: each account's starting balance, in ether.

        Raises:
            ChainError: the installed eth-tester does not run the Prague fork.
        """
        backend = _RevertDataBackend.from_mnemonic(
            DEV_MNEMONIC,
            num_accounts=accounts,
            hd_path=DEV_HD_PATH,
            genesis_state_overrides={"balance": to_wei(balance_eth, "ether")},
        )
        # Gas must match anvil --hardfork prague to the unit: refuse any other fork rather
        # than drift silently if eth-tester's default changes.
        vm = backend.chain.get_vm()
        if type(vm).fork != PragueVM.fork:
            raise ChainError(f"eth-tester runs fork {type(vm).fork!r}, expected {PragueVM.fork!r}")
        self.tester = EthereumTester(backend)
        self.w3 = Web3(_RevertDataProvider(self.tester))
        self.chain_id = int(self.w3.eth.chain_id)
        self.accounts = dev_accounts(accounts)
        self.rpc_url = "py-evm (in process)"

    def increase_time(self, seconds: int) -> None:
        """Mine one block ``seconds`` after the latest one (later, if eth-tester's pending
        block is already later: after a snapshot revert it keeps wall-clock time).

        Raises:
            ValueError: ``seconds`` < 1.
        """
        if seconds < 1:
            raise ValueError(f"a new block must be at least 1 s later, not {seconds} s")
        # eth-tester mines the time-travel block at (target - 1), hence the + 1.
        pending = int(self.tester.get_block_by_number("pending")["timestamp"])
        self.tester.time_travel(max(self.timestamp() + seconds + 1, pending + 1))

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` empty blocks."""
        self.tester.mine_blocks(blocks)

    def snapshot(self) -> object:
        """Remember the chain state."""
        return self.tester.take_snapshot()

    def _revert(self, snapshot: object) -> None:
        try:
            self.tester.revert_to_snapshot(snapshot)
        except Exception as err:  # eth-tester raises SnapshotDoesNotExist, a plain Exception
            raise ChainError(f"py-evm has no snapshot {snapshot!r}: {err}") from err
