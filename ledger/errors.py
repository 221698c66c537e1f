"""The root of every exception ``ledger`` raises.

    LedgerError
    ├── ContentError        (ledger.store: CID mismatch, missing block, unreachable node)
    ├── ChainError          (ledger.chain: reverts, custom errors, RPC failures)
    └── ManifestError       (ledger.manifest: a task manifest that does not validate)

Each subsystem defines its subclasses next to the code that raises them.
"""

__all__ = ["LedgerError"]


class LedgerError(Exception):
    """Base class of all fedledger ledger-side errors."""
