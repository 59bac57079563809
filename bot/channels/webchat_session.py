"""Server-issued web chat sessions: a random id inside an HMAC-signed, expiring token.

A token is ``v1.<session id>.<expiry (unix seconds)>.<signature>``, where the
signature is HMAC-SHA256 over the first three parts with the deployment's
``WEBCHAT_SECRET``. The server alone chooses session ids, so a client can
neither pick nor guess another person's conversation: the id has 128 bits of
randomness and a token for it cannot be made without the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Callable

TOKEN_VERSION = "v1"  # noqa: S105 - a format tag, not a secret
SENDER_PREFIX = "web-"
MIN_SECRET_LENGTH = 32
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
_EXPIRY = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class TokenError(Exception):
    """A session token that cannot be used; ``reason`` is a stable, user-safe code."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Session:
    session_id: str
    expires_at: int
    token: str

    @property
    def sender_id(self) -> str:
        """The conversation id Rasa sees; derived on the server, never sent by a client."""
        return SENDER_PREFIX + self.session_id


class SessionSigner:
    """Issues and verifies session tokens."""

    def __init__(
        self,
        secret: str,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"WEBCHAT_SECRET must be at least {MIN_SECRET_LENGTH} characters "
                "(for example 64 hex digits from a random source)"
            )
        if ttl_seconds <= 0:
            raise ValueError("the web chat session lifetime must be a positive number of seconds")
        self._key = secret.encode("utf-8")
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def _sign(self, message: str) -> str:
        digest = hmac.new(self._key, message.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def issue(self) -> Session:
        """A new session with a fresh random id (128 bits)."""
        session_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode("ascii")
        expires_at = int(self._clock()) + self.ttl_seconds
        body = f"{TOKEN_VERSION}.{session_id}.{expires_at}"
        return Session(session_id, expires_at, f"{body}.{self._sign(body)}")

    def verify(self, token: str | None) -> Session:
        """The session a token stands for.

        Raises TokenError: 401 when there is no token or it has expired (the
        client should start a new session), 403 when it is malformed or forged.
        """
        if not token:
            raise TokenError("no_session", 401)
        if len(token) > 200:
            raise TokenError("invalid_session", 403)
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != TOKEN_VERSION:
            raise TokenError("invalid_session", 403)
        _, session_id, expiry, signature = parts
        if not (_SESSION_ID.match(session_id) and _EXPIRY.match(expiry) and _SIGNATURE.match(signature)):
            raise TokenError("invalid_session", 403)
        expected = self._sign(f"{TOKEN_VERSION}.{session_id}.{expiry}")
        if not hmac.compare_digest(expected, signature):
            raise TokenError("invalid_session", 403)
        expires_at = int(expiry)
        if expires_at <= self._clock():
            raise TokenError("session_expired", 401)
        return Session(session_id, expires_at, token)
