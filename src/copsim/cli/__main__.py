"""``python -m copsim.cli``: the ``copsim`` command."""

import sys

from copsim.cli import main

sys.exit(main())
