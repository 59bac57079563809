"""``python -m actions.navigator INTAKE.json``: the documented name of :mod:`trd.navigator`'s CLI."""

import sys

from trd.navigator.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
