"""Limits every server of the project shares.

Request bodies: Sanic (under Rasa and the action server) accepts 100 MB by default. Every
body the Rasa server receives is capped at REQUEST_MAX_BYTES (64 KB unless set): a bigger
one is refused with 413 before any handler reads it. The action server, which only the
Rasa server calls on loopback with a whole tracker, has its own ACTION_REQUEST_MAX_BYTES
(8 MB unless set). The web chat and SMS channels cap a message's text further
and still run the risk check on an over-long message.
"""

from __future__ import annotations

import os
from typing import MutableMapping, Optional

DEFAULT_REQUEST_MAX_BYTES = 64 * 1024


def request_max_bytes(
    environ: Optional[MutableMapping[str, str]] = None,
    env_name: str = "REQUEST_MAX_BYTES",
    default: int = DEFAULT_REQUEST_MAX_BYTES,
) -> int:
    env = os.environ if environ is None else environ
    raw = (env.get(env_name) or "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{env_name} must be a whole number of bytes, not {raw!r}") from None
    if not 1024 <= value <= 64 * 1024 * 1024:
        raise SystemExit(f"{env_name} must be between 1024 and 67108864")
    return value


def apply_request_limit(
    environ: Optional[MutableMapping[str, str]] = None,
    env_name: str = "REQUEST_MAX_BYTES",
    default: int = DEFAULT_REQUEST_MAX_BYTES,
) -> int:
    """Set Sanic's REQUEST_MAX_SIZE (read from SANIC_REQUEST_MAX_SIZE by every Sanic app made after)."""
    env = os.environ if environ is None else environ
    limit = request_max_bytes(env, env_name, default)
    env["SANIC_REQUEST_MAX_SIZE"] = str(limit)
    return limit
