"""Chain access: backends (anvil, py-evm, any RPC), artifacts, a typed contract client.

    from ledger.chain import AnvilChain, Contract, custom_error

    with AnvilChain() as chain:
        alice = chain.accounts[0]
        probe = Contract.deploy(chain, "RevertProbe", 100, sender=alice)
        try:
            probe.transact("setValue", 101, sender=alice)
        except custom_error("RevertProbeTooLarge") as err:
            print(err.x, err.who)

``PyEvmChain`` lives in ``ledger.chain.pyevm`` (not imported here: it needs the test extra
eth-tester[py-evm]).
"""

from ledger.chain.accounts import DEV_MNEMONIC, dev_accounts
from ledger.chain.anvil import AnvilChain, find_anvil
from ledger.chain.artifacts import Artifact, iter_artifacts, load_artifact
from ledger.chain.backend import ChainBackend
from ledger.chain.contract import Contract
from ledger.chain.custom_errors import custom_error, decode_revert, register_abi
from ledger.chain.errors import (
    AnvilNotFoundError,
    AnvilStartError,
    ArtifactError,
    ChainError,
    ContractCustomError,
    ContractUsageError,
    PanicError,
    RevertWithReason,
    RpcError,
    TransactionReverted,
    UnsupportedOperation,
)
from ledger.chain.rpc import RpcChain

__all__ = [
    "DEV_MNEMONIC",
    "AnvilChain",
    "AnvilNotFoundError",
    "AnvilStartError",
    "Artifact",
    "ArtifactError",
    "ChainBackend",
    "ChainError",
    "Contract",
    "ContractCustomError",
    "ContractUsageError",
    "PanicError",
    "RevertWithReason",
    "RpcChain",
    "RpcError",
    "TransactionReverted",
    "UnsupportedOperation",
    "custom_error",
    "decode_revert",
    "dev_accounts",
    "find_anvil",
    "iter_artifacts",
    "load_artifact",
    "register_abi",
]
