"""Sending locally signed transactions, and turning every revert into a typed exception.

One path for deployments and function calls: estimate gas (a revert here raises the decoded
error and consumes no nonce), take the sender's next nonce, sign with eth-account, send the
raw bytes, wait for the receipt. A transaction that mines with status 0 is replayed with
``eth_call`` on the state it ran on (the parent block) to recover its revert data.

The fee read, the estimate and the send are raw requests over HTTP (web3's formatting of
them cost 3-4x the request itself); an error answer goes through web3 again, which raises
it as before.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from eth_account.datastructures import SignedTransaction
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, TimeExhausted
from web3.types import TxParams, TxReceipt

from ledger.chain.custom_errors import decode_revert
from ledger.chain.errors import RpcError, TransactionReverted
from ledger.chain.nonces import NonceTracker, tracker_for
from ledger.chain.raw_rpc import raw_result
from ledger.chain.rpc import endpoint_of, rpc_errors

__all__ = [
    "GAS_MARGIN",
    "PRIORITY_FEE_WEI",
    "RECEIPT_TIMEOUT_S",
    "chain_id_of",
    "estimate_gas",
    "fee_fields",
    "revert_data_of",
    "reverts_decoded",
    "send_transaction",
    "sign_transaction",
]

GAS_MARGIN = 1.25  # estimate x margin: room for state that moves between estimate and mining
PRIORITY_FEE_WEI = 10**9
RECEIPT_TIMEOUT_S = 120.0


def revert_data_of(err: ContractLogicError) -> bytes:
    """The raw revert bytes web3 attached to ``err`` (empty when there were none)."""
    data = err.data
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes(HexBytes(data))
        except ValueError:
            return b""
    return b""


@contextmanager
def reverts_decoded(w3: Web3, *, tx_hash: str | None = None) -> Iterator[None]:
    """Re-raise web3's revert errors as the decoded ``TransactionReverted`` subclass.

    Transport failures become ``RpcError``.

    Raises:
        TransactionReverted: (or a subclass) a revert happened inside the block.
        RpcError: the node could not be reached.
    """
    with rpc_errors(endpoint_of(w3)):
        try:
            yield
        except ContractLogicError as err:
            raise decode_revert(revert_data_of(err), tx_hash=tx_hash) from err


def fee_fields(w3: Web3) -> dict[str, int]:
    """EIP-1559 fee fields that will be accepted for the next few blocks.

    Raises:
        RpcError: the node could not be reached.
    """
    block = raw_result(w3, "eth_getBlockByNumber", ["latest", False])
    if isinstance(block, dict):
        base_fee = int(block.get("baseFeePerGas") or "0x0", 16)
    else:
        with rpc_errors(endpoint_of(w3)):
            base_fee = int(w3.eth.get_block("latest").get("baseFeePerGas") or 0)
    return {
        "maxFeePerGas": 2 * base_fee + PRIORITY_FEE_WEI,
        "maxPriorityFeePerGas": PRIORITY_FEE_WEI,
    }


_chain_ids: weakref.WeakKeyDictionary[Web3, int] = weakref.WeakKeyDictionary()


def chain_id_of(w3: Web3) -> int:
    """``w3``'s chain id, asked once per Web3 object (it cannot change under a connection).

    Raises:
        RpcError: the node could not be reached.
    """
    if w3 not in _chain_ids:
        with rpc_errors(endpoint_of(w3)):
            _chain_ids[w3] = int(w3.eth.chain_id)
    return _chain_ids[w3]


def estimate_gas(w3: Web3, tx: TxParams) -> int:
    """Gas estimate for ``tx`` times ``GAS_MARGIN``.

    Raises:
        TransactionReverted: (or a subclass) the transaction would revert.
        RpcError: the node could not be reached.
    """
    raw = raw_result(w3, "eth_estimateGas", [_json_tx(tx)])
    if isinstance(raw, str) and raw.startswith("0x"):
        return int(int(raw, 16) * GAS_MARGIN)
    with reverts_decoded(w3):  # a revert (or any error) is raised as web3 reports it
        estimate = int(w3.eth.estimate_gas(tx))
    return int(estimate * GAS_MARGIN)


def _json_tx(tx: TxParams) -> dict[str, Any]:
    """``tx`` as JSON-RPC wants it: quantities in hex."""
    return {k: hex(v) if isinstance(v, int) else v for k, v in tx.items()}


def _send_raw(w3: Web3, raw: bytes) -> HexBytes:
    tx_hash = raw_result(w3, "eth_sendRawTransaction", ["0x" + raw.hex()])
    if isinstance(tx_hash, str) and tx_hash.startswith("0x"):
        return HexBytes(tx_hash)
    return HexBytes(w3.eth.send_raw_transaction(raw))  # raises the refusal as web3 reports it


def sign_transaction(
    w3: Web3,
    tx: TxParams,
    *,
    sender: LocalAccount,
    nonce: int,
    gas: int,
    chain_id: int | None = None,
    fees: dict[str, int] | None = None,
) -> SignedTransaction:
    """Sign ``tx`` (``to``/``data``/``value``) locally with everything filled in explicitly.

    Raises:
        RpcError: fees or chain id had to be fetched and the node could not be reached.
    """
    if chain_id is None:
        chain_id = chain_id_of(w3)
    full = {
        **tx,
        "from": sender.address,
        "nonce": nonce,
        "gas": gas,
        "chainId": chain_id,
        **(fees or fee_fields(w3)),
    }
    return sender.sign_transaction(cast("dict[str, Any]", full))


def _replay_revert(w3: Web3, tx: TxParams, receipt: TxReceipt, gas: int) -> TransactionReverted:
    """The exception for a transaction mined with status 0.

    The replay runs on the parent block's state, which is the state the transaction saw
    when it was the block's first one (always true on an automining dev chain).
    """
    tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
    used = int(receipt["gasUsed"])
    if used >= gas:  # every bit of gas burnt: out of gas, there is no revert data to find
        return TransactionReverted(f"out of gas (gas limit {gas} all used)", tx_hash=tx_hash)
    try:
        with reverts_decoded(w3, tx_hash=tx_hash):
            w3.eth.call(
                {**tx, "gas": gas}, block_identifier=max(int(receipt["blockNumber"]) - 1, 0)
            )
    except TransactionReverted as err:
        return err
    except RpcError as err:
        return TransactionReverted(f"failed on chain; replay refused: {err}", tx_hash=tx_hash)
    return TransactionReverted(
        f"failed on chain (gas used {used} of {gas}); the replay did not revert", tx_hash=tx_hash
    )


def send_transaction(
    w3: Web3,
    tx: TxParams,
    *,
    sender: LocalAccount,
    gas: int | None = None,
    nonces: NonceTracker | None = None,
    on_sent: Callable[[str], None] | None = None,
) -> TxReceipt:
    """Estimate, sign, send and wait; raise the decoded error if it reverts.

    Args:
        w3: the chain.
        tx: ``to`` (absent for a deployment), ``data``, ``value``.
        sender: the signing account.
        gas: gas limit; None = estimate x ``GAS_MARGIN``.
        nonces: the tracker to draw the nonce from (default: the one of ``w3``).
        on_sent: called with the transaction hash once the node accepted it.

    Returns:
        The receipt of the successful transaction.

    Raises:
        TransactionReverted: (or a subclass) at estimation, or mined with status 0.
        RpcError: the node could not be reached or refused the transaction.
    """
    tx = {**tx, "from": sender.address}
    if gas is None:
        gas = estimate_gas(w3, tx)
    fees = fee_fields(w3)
    nonces = nonces or tracker_for(w3)
    url = endpoint_of(w3)
    with rpc_errors(url):
        nonce = nonces.take(sender.address)
    try:
        signed = sign_transaction(w3, tx, sender=sender, nonce=nonce, gas=gas, fees=fees)
        with reverts_decoded(w3):  # some nodes check the revert again when accepting
            tx_hash = _send_raw(w3, signed.raw_transaction)
    except BaseException:
        nonces.forget(sender.address)  # the nonce may or may not be used: ask the node
        raise
    if on_sent is not None:
        on_sent("0x" + bytes(tx_hash).hex())
    with rpc_errors(url):
        try:
            receipt = w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=RECEIPT_TIMEOUT_S, poll_latency=0.05
            )
        except TimeExhausted as err:
            raise RpcError(f"no receipt for 0x{bytes(tx_hash).hex()}: {err}", url=url) from err
    if int(receipt["status"]) != 1:
        raise _replay_revert(w3, tx, receipt, gas)
    return receipt
