"""``python -m actions.store.migrate [--check]``: the documented name of :mod:`trd.store.migrate`."""

import sys

from trd.store.migrate import main

if __name__ == "__main__":
    sys.exit(main())
