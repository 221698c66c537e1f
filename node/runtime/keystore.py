"""Where a participant's signing key comes from: an encrypted keystore or the environment.

Keys are never read from a config file. A keystore is the standard Ethereum JSON
(eth-account ``encrypt``); its password comes from ``FEDLEDGER_KEY_PASSWORD`` or a
password file, so neither the key nor the password sits in the task or node config.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from node.errors import NodeError

if TYPE_CHECKING:  # eth-account takes 0.6 s to import; `fedledger --help` names KEY_ENV
    from eth_account.signers.local import LocalAccount

__all__ = ["KEY_ENV", "PASSWORD_ENV", "KeyLoadError", "keystore_address", "load_account",
           "write_keystore"]

KEY_ENV = "FEDLEDGER_PRIVATE_KEY"
PASSWORD_ENV = "FEDLEDGER_KEY_PASSWORD"


class KeyLoadError(NodeError):
    """The signing key could not be loaded (missing, undecryptable, malformed)."""


def write_keystore(account: LocalAccount, path: Path, password: str, *,
                   iterations: int = 2**12) -> Path:
    """Encrypt ``account``'s key into ``path`` (mode 0600).

    ``iterations`` is the pbkdf2 work factor; the default is modest so that demo
    nodes start fast. Raise it for keys that guard real funds.
    """
    from eth_account import Account

    keystore = Account.encrypt(account.key, password, kdf="pbkdf2", iterations=iterations)
    path = Path(path)
    path.write_text(json.dumps(keystore, sort_keys=True))
    path.chmod(0o600)
    return path


def load_account(keyfile: str | Path | None = None, *,
                 password_file: str | Path | None = None) -> LocalAccount:
    """Load the node's account from ``keyfile`` (encrypted keystore) or ``$FEDLEDGER_PRIVATE_KEY``.

    Raises:
        KeyLoadError: no key source, a wrong password, or a malformed key.
    """
    from eth_account import Account

    if keyfile is None:
        raw = os.environ.get(KEY_ENV)
        if not raw:
            raise KeyLoadError(f"no key: pass --key KEYFILE or set {KEY_ENV}")
        try:
            return Account.from_key(raw)
        except (ValueError, TypeError) as err:
            raise KeyLoadError(f"{KEY_ENV} is not a valid private key") from err
    password = _password(password_file)
    try:
        keystore = json.loads(Path(keyfile).read_text())
        return Account.from_key(Account.decrypt(keystore, password))
    except FileNotFoundError as err:
        raise KeyLoadError(f"keystore {keyfile} does not exist") from err
    except (ValueError, KeyError, TypeError) as err:
        raise KeyLoadError(f"cannot decrypt keystore {keyfile}: {err}") from err


def keystore_address(keyfile: str | Path | None) -> str:
    """The address a keystore belongs to, read without its password (the file states it in
    clear); read-only commands need no key.

    Raises:
        KeyLoadError: no keystore given, missing, or without an address.
    """
    from eth_utils import to_checksum_address

    if keyfile is None:
        if os.environ.get(KEY_ENV):
            return load_account(None).address
        raise KeyLoadError(f"no member: pass --address ADDR, --key KEYFILE or set {KEY_ENV}")
    try:
        return to_checksum_address("0x" + json.loads(Path(keyfile).read_text())["address"]
                                   .removeprefix("0x"))
    except FileNotFoundError as err:
        raise KeyLoadError(f"keystore {keyfile} does not exist") from err
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise KeyLoadError(f"keystore {keyfile} states no address: {err}") from err


def _password(password_file: str | Path | None) -> str:
    if password_file is not None:
        return Path(password_file).read_text().rstrip("\n")
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        raise KeyLoadError(f"keystore password: set {PASSWORD_ENV} or pass --password-file")
    return password
