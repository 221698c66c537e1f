"""A typed client for one deployed contract, built from its artifact.

    probe = Contract.deploy(chain, "RevertProbe", 100, sender=alice)
    probe.transact("setValue", 7, sender=alice)          # signed locally, explicit nonce/gas
    assert probe.call("value") == 7
    [ev] = probe.events("ValueSet", setter=alice.address)  # decoded, chain order

Every revert (in a call, at gas estimation, or mined) raises the decoded exception:
``RevertWithReason``, ``PanicError``, or the custom error's own class (see
``ledger.chain.custom_errors.custom_error``).

Over HTTP, calls, calldata and event queries take a fast path (``ledger.chain.abi_codec``:
``eth_abi`` and one raw request, the same values web3 returns at a fraction of its CPU);
anything that path does not handle, errors included, goes through web3.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from eth_account.datastructures import SignedTransaction
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from eth_utils.abi import get_abi_output_types
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, MismatchedABI, Web3ValidationError
from web3.types import BlockIdentifier, TxParams, TxReceipt, Wei

from ledger.chain.abi_codec import ContractCodec, Unsupported
from ledger.chain.artifacts import Artifact, load_artifact
from ledger.chain.backend import ChainBackend
from ledger.chain.custom_errors import register_abi
from ledger.chain.errors import ChainError, ContractUsageError
from ledger.chain.nonces import NonceTracker, tracker_for
from ledger.chain.prepared_read import PreparedRead, raw_call
from ledger.chain.raw_rpc import raw_result
from ledger.chain.transactions import (
    fee_fields,
    reverts_decoded,
    send_transaction,
    sign_transaction,
)

__all__ = ["Contract"]


_codecs: dict[int, tuple[Any, ContractCodec]] = {}  # id(abi) -> (abi, its codec)


def _codec_of(abi: Any) -> ContractCodec:
    """One codec per ABI object (artifacts are cached, so per contract; the entry holds the
    ABI, so its id is never reused while cached)."""
    entry = _codecs.get(id(abi))
    if entry is None or entry[0] is not abi:
        entry = _codecs[id(abi)] = (abi, ContractCodec(abi))
    return entry[1]


def _block_param(block: BlockIdentifier) -> Any:
    return hex(block) if isinstance(block, int) else block


def _web3_of(chain_or_w3: ChainBackend | Web3) -> Web3:
    return chain_or_w3.w3 if isinstance(chain_or_w3, ChainBackend) else chain_or_w3


@contextmanager
def _usage_errors(what: str) -> Iterator[None]:
    """web3's complaints about arguments or ABI become ContractUsageError."""
    try:
        yield
    except (MismatchedABI, Web3ValidationError, TypeError, ValueError) as err:
        if isinstance(err, ChainError):
            raise
        raise ContractUsageError(f"{what}: {err}") from err


class Contract:
    """A deployed contract: calls, locally signed transactions, decoded events.

    Attributes:
        w3: the chain connection.
        artifact: the compiled artifact it was built from.
        name: the contract name.
        address: checksum address.
        abi: the ABI list.
    """

    def __init__(self, w3: Web3, artifact: Artifact, address: str, *, fast: bool = True) -> None:
        """Wrap an existing deployment (prefer ``Contract.at`` / ``Contract.deploy``).

        ``fast=False`` sends everything through web3 (to compare the two paths).

        Raises:
            ContractUsageError: ``address`` is not an address.
        """
        with _usage_errors(f"bad address for {artifact.name}"):
            self.address = to_checksum_address(address)
        self.w3 = w3
        self.artifact = artifact
        self.name = artifact.name
        self.abi = artifact.abi
        self._contract = w3.eth.contract(address=self.address, abi=artifact.abi)
        self._codec = _codec_of(artifact.abi) if fast else ContractCodec([])
        self._nonces: NonceTracker = tracker_for(w3)
        register_abi(artifact.abi)  # so its custom errors decode even before any lookup

    def __repr__(self) -> str:
        return f"<Contract {self.name} at {self.address}>"

    @classmethod
    def at(cls, chain_or_w3: ChainBackend | Web3, name: str, address: str) -> Contract:
        """The contract ``name`` (an artifact in contracts/build) deployed at ``address``.

        Raises:
            ArtifactError: no such artifact.
            ContractUsageError: ``address`` is not an address.
        """
        return cls(_web3_of(chain_or_w3), load_artifact(name), address)

    @classmethod
    def deploy(
        cls,
        chain_or_w3: ChainBackend | Web3,
        name: str,
        *ctor_args: Any,
        sender: LocalAccount,
        value: int = 0,
        gas: int | None = None,
        libraries: Mapping[str, str] | None = None,
    ) -> Contract:
        """Deploy a new instance of artifact ``name`` and wait for it.

        Args:
            chain_or_w3: where to deploy.
            name: the artifact (contract) name.
            *ctor_args: constructor arguments.
            sender: the deploying account.
            value: wei sent to a payable constructor.
            gas: gas limit; None = estimate with margin.
            libraries: addresses of linked libraries, by name.

        Raises:
            ArtifactError: no such artifact, or an unlinked library.
            ContractUsageError: constructor arguments do not match the ABI.
            TransactionReverted: (or a subclass) the constructor reverted.
            RpcError: the node could not be reached.
        """
        w3 = _web3_of(chain_or_w3)
        artifact = load_artifact(name)
        register_abi(artifact.abi)
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.linked_bytecode(libraries))
        with _usage_errors(f"constructor of {name}"):
            data = factory.constructor(*ctor_args).data_in_transaction
        receipt = send_transaction(
            w3, {"data": data, "value": Wei(value)}, sender=sender, gas=gas, nonces=tracker_for(w3)
        )
        return cls(w3, artifact, str(receipt["contractAddress"]))

    def _function(self, fn_name: str, args: tuple[Any, ...]) -> Any:
        with _usage_errors(f"{self.name}.{fn_name}"):
            return self._contract.functions[fn_name](*args)

    def prepare(self, fn_name: str, *args: Any) -> PreparedRead:
        """``fn_name(*args)`` as a read prepared once and repeated cheaply (``PreparedRead``).

        Raises:
            ContractUsageError: no such function or the arguments do not match.
        """
        calldata = self.encode(fn_name, *args)
        with _usage_errors(f"{self.name}.{fn_name}"):
            types = get_abi_output_types(self._contract.get_function_by_name(fn_name).abi)
        return PreparedRead(self.w3, self.address, calldata, len(types),
                            self._codec.function(fn_name), lambda: self.call(fn_name, *args))

    def encode(self, fn_name: str, *args: Any) -> str:
        """The calldata (``0x`` hex) of ``fn_name(*args)``.

        Raises:
            ContractUsageError: no such function or the arguments do not match.
        """
        codec = self._codec.function(fn_name)
        if codec is not None:
            try:
                return codec.encode(args)
            except Unsupported:
                pass  # web3 normalizes what it can, or raises the usage error
        with _usage_errors(f"{self.name}.{fn_name}"):
            return self._contract.encode_abi(fn_name, args=list(args))

    def call(
        self,
        fn_name: str,
        *args: Any,
        block: BlockIdentifier = "latest",
        sender: LocalAccount | str | None = None,
    ) -> Any:
        """Run a function without a transaction and return its decoded result.

        Args:
            fn_name: the function.
            *args: its arguments.
            block: the block whose state to read.
            sender: ``msg.sender`` (an account or address); default the zero address.

        Raises:
            ContractUsageError: no such function or the arguments do not match.
            TransactionReverted: (or a subclass) the call reverted.
            ChainError: no contract code at the address.
            RpcError: the node could not be reached.
        """
        params: dict[str, Any] = {}
        if sender is not None:
            params["from"] = sender if isinstance(sender, str) else sender.address
        codec = self._codec.function(fn_name)
        if codec is not None:
            try:
                request = {**params, "to": self.address, "data": codec.encode(args)}
            except Unsupported:
                pass  # web3's path below normalizes the arguments or raises its usage error
            else:
                done, outputs = raw_call(self.w3, [request, _block_param(block)], codec)
                if done:
                    return outputs
        function = self._function(fn_name, args)
        try:
            with reverts_decoded(self.w3), _usage_errors(f"{self.name}.{fn_name}"):
                return function.call(params, block_identifier=block)
        except BadFunctionCallOutput as err:
            raise ChainError(f"{self.name}.{fn_name} at {self.address}: {err}") from err

    def transact(
        self,
        fn_name: str,
        *args: Any,
        sender: LocalAccount,
        value: int = 0,
        gas: int | None = None,
    ) -> TxReceipt:
        """Send a locally signed transaction calling ``fn_name(*args)``; wait for its receipt.

        Raises:
            ContractUsageError: no such function or the arguments do not match.
            TransactionReverted: (or a subclass) reverted at estimation or mined with status 0.
            RpcError: the node could not be reached or refused the transaction.
        """
        tx = cast("TxParams", {"to": self.address, "data": self.encode(fn_name, *args),
                               "value": value})
        return send_transaction(self.w3, tx, sender=sender, gas=gas, nonces=self._nonces)

    def build_signed(
        self,
        fn_name: str,
        *args: Any,
        sender: LocalAccount,
        nonce: int,
        gas: int,
        value: int = 0,
        fees: dict[str, int] | None = None,
    ) -> SignedTransaction:
        """A signed transaction for bulk sending (``w3.eth.send_raw_transaction``).

        Nothing is estimated and the nonce tracker is not touched: the caller owns both.
        Pass ``fees`` (from ``ledger.chain.transactions.fee_fields``) to save a round trip.

        Raises:
            ContractUsageError: no such function or the arguments do not match.
        """
        tx = cast("TxParams", {"to": self.address, "data": self.encode(fn_name, *args),
                               "value": value})
        return sign_transaction(
            self.w3, tx, sender=sender, nonce=nonce, gas=gas, fees=fees or fee_fields(self.w3)
        )

    def events(
        self,
        event_name: str,
        from_block: BlockIdentifier = 0,
        to_block: BlockIdentifier = "latest",
        **indexed_filters: Any,
    ) -> list[dict[str, Any]]:
        """Decoded logs of ``event_name`` emitted by this contract, in chain order.

        Args:
            event_name: the event.
            from_block: first block (inclusive).
            to_block: last block (inclusive).
            **indexed_filters: equality filters on event arguments (a list means "any of").

        Returns:
            One dict per log: ``event``, ``args`` (by name, declaration order),
            ``block_number``, ``tx_hash`` (``0x`` hex), ``log_index``, ``address``.

        Raises:
            ContractUsageError: no such event or a filter names no argument of it.
            RpcError: the node could not be reached.
        """
        fast = self._fast_events(event_name, from_block, to_block, indexed_filters)
        if fast is not None:
            return fast
        with _usage_errors(f"{self.name} event {event_name}"):
            event = self._contract.events[event_name]
            names = {p["name"] for p in event.abi["inputs"]}
            unknown = sorted(set(indexed_filters) - names)
            if unknown:
                raise ContractUsageError(f"event {event_name} has no argument {unknown}")
        with reverts_decoded(self.w3):
            # Nodes disagree about a range that starts past the head (anvil: an error,
            # py-evm: nothing); answer "no events" everywhere.
            if isinstance(from_block, int) and from_block > self.w3.eth.block_number:
                return []
            logs = event.get_logs(
                argument_filters=indexed_filters or None, from_block=from_block, to_block=to_block
            )
        order = [p["name"] for p in event.abi["inputs"]]
        decoded = [
            {
                "event": log["event"],
                "args": {k: log["args"][k] for k in order},
                "block_number": int(log["blockNumber"]),
                "tx_hash": "0x" + bytes(log["transactionHash"]).hex(),
                "log_index": int(log["logIndex"]),
                "address": log["address"],
            }
            for log in logs
        ]
        decoded.sort(key=lambda e: (e["block_number"], e["log_index"]))
        return decoded

    def _fast_events(self, event_name: str, from_block: BlockIdentifier,
                     to_block: BlockIdentifier,
                     filters: Mapping[str, Any]) -> list[dict[str, Any]] | None:
        """``events`` through ``eth_getLogs`` and the codec; None: take web3's path."""
        codec = self._codec.event(event_name)
        if codec is None:
            return None
        try:
            query = {"address": self.address, "topics": codec.topics(filters),
                     "fromBlock": _block_param(from_block), "toBlock": _block_param(to_block)}
            logs = raw_result(self.w3, "eth_getLogs", [query])
            if not isinstance(logs, list):
                return None  # an error (a range past the head on anvil, say): web3 decides
            decoded = [codec.decode(log) for log in logs]
        except Unsupported:
            return None
        decoded.sort(key=lambda e: (e["block_number"], e["log_index"]))
        return decoded
