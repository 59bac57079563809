"""The Rasa server's entry point: ``python -m bot run ...`` is ``rasa run ...`` with this
project's process-wide speed-ups installed first (:mod:`bot.rasa_speedups`), every request
body capped at REQUEST_MAX_BYTES (:mod:`trd.limits`) and Rasa's HTTP API answering this
machine only (:mod:`bot.api_guard`), and every log line redacted (:mod:`bot.log_privacy`: no
phone number, message text, token or secret), no silent fallback to an empty conversation on
a database error (:mod:`bot.store_guard`), action calls bounded by ACTION_TIMEOUT_SECONDS
(:mod:`bot.action_guard`). Deployments run this, not plain ``rasa run``.

    python -m bot run --model models/x.tar.gz --endpoints endpoints.yml ...   # scripts/run.sh
    python -m bot shell                                                        # any rasa command

Every argument goes to Rasa's own command line unchanged. Plain ``rasa run`` and ``rasa shell``
still work; without the speed-ups they answer the same, a little more slowly.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from bot import action_guard, api_guard, log_privacy, rasa_speedups, store_guard, summary_output
from trd.limits import apply_request_limit


def main(argv: Optional[Sequence[str]] = None) -> None:
    log_privacy.install()  # first: every later log line of this process is redacted
    apply_request_limit()  # before Rasa makes its Sanic app: bodies over REQUEST_MAX_BYTES get 413
    rasa_speedups.install()
    api_guard.install()  # Rasa's HTTP API: loopback callers only, the token compared in constant time
    store_guard.install()  # no FailSafeTrackerStore around ours: a store error is never a silent reset
    action_guard.install()  # action calls time out in ACTION_TIMEOUT_SECONDS, with a visible reply
    log_privacy.register_messages()
    summary_output.install()  # summary links added on the way out: no token in the tracker store
    from rasa.__main__ import main as rasa_main  # after install(): nothing of Rasa's runs before it

    sys.argv = ["rasa", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
