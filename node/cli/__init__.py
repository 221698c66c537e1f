"""The ``fedledger`` command line: one module per command, one shared options module.

* ``app``: assembles the commands; ``main`` is the ``fedledger`` entry point.
* ``options``: options shared by several commands, declared once; the ledger openers.
* ``errors``: the CLI's expected and usage errors.
* ``privacy_options``: ``--privacy`` and ``--dp-*`` (task create, demo).
* one module per command: ``demo``, ``deploy``, ``task``, ``node``, ``audit``,
  ``simulate``, ``chain``, ``store``, ``key``.

The top layer: imports anything below it, and nothing imports it.
"""

from node.cli.app import main

__all__ = ["main"]
