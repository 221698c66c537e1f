"""The key a member registers at ``join`` for secure-aggregation key agreement.

It is a secp256k1 key pair of its own, derived from the account key with a domain tag,
so a node needs no second secret file and gets the same key back after a restart, while
the account's signing key is never used for anything but signing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coincurve import PrivateKey
from eth_utils import keccak

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

__all__ = ["agreement_private_key", "agreement_public_key"]

_DOMAIN = b"fedledger/secure-aggregation-key/v1"


def agreement_private_key(account: LocalAccount) -> PrivateKey:
    """The member's key-agreement private key."""
    return PrivateKey(keccak(_DOMAIN + bytes(account.key)))


def agreement_public_key(account: LocalAccount) -> bytes:
    """The 33-byte compressed public key registered on chain."""
    return agreement_private_key(account).public_key.format(compressed=True)
