"""``python -m node.cli``: the ``fedledger`` command."""

import sys

from node.cli.app import main

sys.exit(main())
