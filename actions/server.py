"""Run the action server on a given interface (127.0.0.1 by default).

`python -m actions.server --port 5055` is what `make run` and the tests start.
Stock `rasa run actions` binds 0.0.0.0; this binds only where it is told.
"""

from __future__ import annotations

import argparse
import logging
import os

from rasa_sdk.endpoint import create_app

from actions import log_privacy
from trd.limits import apply_request_limit


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="TRD navigator action server")
    parser.add_argument("--host", default=os.environ.get("ACTION_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_PORT", "5055")))
    args = parser.parse_args(argv)
    log_privacy.install()  # no phone number, message text, token or secret in any log line
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Only the Rasa server calls this server (on loopback), with a whole tracker: a body limit
    # of its own, far above the public one, instead of Sanic's 100 MB.
    apply_request_limit(env_name="ACTION_REQUEST_MAX_BYTES", default=8 * 1024 * 1024)
    # No CORS: only the Rasa server calls the action server.
    app = create_app("actions", cors_origins=None)
    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
