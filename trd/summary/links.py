"""Links to a person's summary: ``PUBLIC_BASE_URL/summary/<token>``.

A token is ``secrets.token_urlsafe(32)`` (256 random bits); the database keeps only
its SHA-256. A link works for ``SUMMARY_LINK_TTL_DAYS`` days (7 by default) or until
the person says "delete my summary". :class:`SummaryLinks` takes a clock, so expiry
is tested without waiting.
"""

from __future__ import annotations

import logging
import os
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
            TTL_ENV, raw, MAX_TTL_DAYS, DEFAULT_TTL_DAYS,
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
    "new_token",
    "public_base_url",
    "summary_url",
    "ttl_days",
]
