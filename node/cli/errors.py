"""The CLI's two kinds of failure, and nothing else: :func:`node.cli.app.main` turns an
expected error (this, ``LedgerError``, ``NodeError``) into one line on stderr and exit 1,
a :class:`UsageError` into argparse's usage message and exit 2.

::

    NodeError
    └── CliError        an expected failure the user can fix (missing file, password, ...)
        └── UsageError  options that contradict each other (exit 2)
"""

from __future__ import annotations

from node.errors import NodeError

__all__ = ["CliError", "UsageError"]


class CliError(NodeError):
    """An expected failure of a command: one line on stderr, exit 1."""


class UsageError(CliError):
    """Options that cannot go together: usage on stderr, exit 2."""
