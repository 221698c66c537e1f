"""Funded development accounts: anvil's standard mnemonic, derived with eth-account.

Both backends fund the same accounts (``m/44'/60'/0'/0/i`` of the well-known test
mnemonic), so a contract deployed by account 0 gets the same address on anvil and on py-evm.
These keys are public knowledge: never use them on a real network.
"""

from __future__ import annotations

from functools import cache

from eth_account import Account
from eth_account.signers.local import LocalAccount

__all__ = ["DEV_HD_PATH", "DEV_MNEMONIC", "dev_accounts"]

DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_HD_PATH = "m/44'/60'/0'/0"

Account.enable_unaudited_hdwallet_features()


@cache
def _derive(index: int) -> LocalAccount:
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"{DEV_HD_PATH}/{index}")


def dev_accounts(count: int) -> list[LocalAccount]:
    """The first ``count`` development accounts, with private keys (cached: derivation is slow)."""
    return [_derive(i) for i in range(count)]
