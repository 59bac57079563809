"""``python -m actions.escalation.worker``: the documented name of :mod:`trd.escalation.worker`."""

import sys

from trd.escalation.worker import main

if __name__ == "__main__":
    sys.exit(main())
