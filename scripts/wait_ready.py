"""Wait until every URL given answers HTTP (any status below 500), or fail after a timeout."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request


def wait(urls: list[str], timeout: float = 180.0) -> bool:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        url = pending[0]
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - http(s) URLs from our scripts
                pending.pop(0)
                continue
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                pending.pop(0)
                continue
        except OSError:
            pass
        time.sleep(0.3)
    if pending:
        print(f"not ready after {timeout:.0f}s: {', '.join(pending)}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    sys.exit(0 if wait(sys.argv[1:]) else 1)
