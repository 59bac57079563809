"""Links to a person's summary: ``PUBLIC_BASE_URL/summary/<token>``.

A token is 256 bits the database never holds: only its SHA-256 is stored.

The token never enters a conversation's events either (#10): the chat message the action
server sends carries a *reference*, ``[[summary-link:<nonce>]]`` (a random nonce), and the Rasa
server turns it into the link on the way out (every channel, and the web chat's history), as
``PUBLIC_BASE_URL/summary/<token>`` with token = HMAC-SHA256(``SUMMARY_LINK_SECRET``, nonce)
(``WEBCHAT_SECRET`` when that is unset; both servers need the same). So a copy of the tracker
store, the database or the logs opens no summary.

A link works for ``SUMMARY_LINK_TTL_DAYS`` days (7 by default) or until the person says
"delete my summary". :class:`SummaryLinks` takes a clock, so expiry
is tested without waiting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from trd.store.repository import (
    LINK_ACTIVE,
    LINK_EXPIRED,
    LINK_REVOKED,
    Repository,
    SummaryLink,
    utcnow,
)

logger = logging.getLogger(__name__)

TTL_ENV = "SUMMARY_LINK_TTL_DAYS"
BASE_URL_ENV = "PUBLIC_BASE_URL"
DEFAULT_TTL_DAYS = 7
MAX_TTL_DAYS = 90
PATH_PREFIX = "/summary/"
LINK_UNKNOWN = "unknown"

Clock = Callable[[], datetime]


def ttl_days(env: Optional[Mapping[str, str]] = None) -> int:
    """``SUMMARY_LINK_TTL_DAYS`` as whole days (1-90); the default (7), with a warning, when unusable."""
    raw = (env if env is not None else os.environ).get(TTL_ENV, "")
    if not raw.strip():
        return DEFAULT_TTL_DAYS
    try:
        days = int(raw.strip())
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_TTL_DAYS:
        logger.warning(
            "%s=%r is not a whole number of days from 1 to %d; using %d",
            TTL_ENV,
            raw,
            MAX_TTL_DAYS,
            DEFAULT_TTL_DAYS,
        )
        return DEFAULT_TTL_DAYS
    return days


def public_base_url(env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """``PUBLIC_BASE_URL`` without a trailing slash, or None when it is missing or not an http(s) URL."""
    raw = (env if env is not None else os.environ).get(BASE_URL_ENV, "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        logger.warning("%s=%r is not an http(s) base URL; summary links are not sent", BASE_URL_ENV, raw)
        return None
    return raw.rstrip("/")


def summary_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + PATH_PREFIX + token


def new_token() -> str:
    return secrets.token_urlsafe(32)


REFERENCE = re.compile(r"\[\[summary-link:([A-Za-z0-9_-]{16,64})\]\]")
SECRET_ENVS = ("SUMMARY_LINK_SECRET", "WEBCHAT_SECRET")
MIN_SECRET_CHARS = 16


def link_secret(env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The key summary tokens are derived with (shared by the action and Rasa servers)."""
    source = env if env is not None else os.environ
    for name in SECRET_ENVS:
        value = source.get(name, "").strip()
        if len(value) >= MIN_SECRET_CHARS:
            return value
    return None


def token_for(secret: str, nonce: str) -> str:
    """The token a reference stands for (43 URL-safe characters)."""
    digest = hmac.new(secret.encode("utf-8"), b"trd-summary-link/v1:" + nonce.encode("ascii"), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def reference(nonce: str) -> str:
    return f"[[summary-link:{nonce}]]"


def expand_references(text: str, env: Optional[Mapping[str, str]] = None) -> str:
    """``text`` with each summary-link reference turned into its link (the Rasa server, on the way
    out). Without PUBLIC_BASE_URL or the secret the reference becomes a plain apology."""
    if "[[summary-link:" not in text:
        return text
    base, secret = public_base_url(env), link_secret(env)

    def link(match: re.Match[str]) -> str:
        if base is None or secret is None:
            return "(the link is not available here)"
        return summary_url(base, token_for(secret, match.group(1)))

    return REFERENCE.sub(link, text)


@dataclass(frozen=True)
class LinkLookup:
    """What a token opens: ``state`` is active, expired, revoked or unknown."""

    state: str
    link: Optional[SummaryLink] = None

    @property
    def conversation_id(self) -> Optional[str]:
        return self.link.conversation_id if self.link is not None and self.state == LINK_ACTIVE else None


class SummaryLinks:
    """Create, look up and revoke summary links through a repository (synchronous: run in a thread)."""

    def __init__(self, repository: Repository, clock: Clock = utcnow, ttl: Optional[int] = None) -> None:
        self.repository = repository
        self.clock = clock
        self.ttl_days = ttl if ttl is not None else ttl_days()

    def create(self, conversation_id: str) -> Tuple[str, SummaryLink]:
        """A new token and its stored link (the token is returned once and never stored)."""
        now = self.clock()
        token = new_token()
        link = self.repository.create_summary_link(
            conversation_id, token, now + timedelta(days=self.ttl_days), now=now
        )
        return token, link

    def create_reference(self, conversation_id: str, secret: str) -> Tuple[str, SummaryLink]:
        """A new link whose token is derived from a nonce; returns the reference to send (no token)."""
        now = self.clock()
        nonce = secrets.token_urlsafe(16)
        link = self.repository.create_summary_link(
            conversation_id, token_for(secret, nonce), now + timedelta(days=self.ttl_days), now=now
        )
        return reference(nonce), link

    def lookup(self, token: str) -> LinkLookup:
        link = self.repository.summary_link(token)
        if link is None:
            return LinkLookup(LINK_UNKNOWN)
        return LinkLookup(link.state(self.clock()), link)

    def resolve(self, token: str) -> Optional[str]:
        return self.repository.resolve_summary_link(token, now=self.clock())

    def revoke(self, conversation_id: str) -> int:
        return self.repository.revoke_summary_links(conversation_id, now=self.clock())


__all__ = [
    "LINK_ACTIVE",
    "LINK_EXPIRED",
    "LINK_REVOKED",
    "LINK_UNKNOWN",
    "LinkLookup",
    "SummaryLinks",
    "expand_references",
    "link_secret",
    "reference",
    "token_for",
    "new_token",
    "public_base_url",
    "summary_url",
    "ttl_days",
]
