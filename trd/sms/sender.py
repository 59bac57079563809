"""Sending SMS through the provider's REST API, behind a small interface.

``SmsSender`` is what the SMS channel (and anything else that texts people, e.g.
an escalation notifier) depends on:

- :class:`AioHttpTwilioSender` posts to Twilio's Messages API with aiohttp
  (``POST {api_base}/2010-04-01/Accounts/{sid}/Messages.json``, form-encoded
  To/From/Body, HTTP basic auth with the account SID and auth token). Network
  errors, timeouts, 5xx and 429 are retried with exponential backoff (bounded:
  ``max_attempts`` tries, delays doubling from ``base_delay`` up to ``max_delay``,
  ``Retry-After`` honoured within that bound); other 4xx fail at once. A retry
  after a network error may, rarely, deliver a message twice (the API has no
  idempotency key); a lost crisis reply would be worse.
- :class:`FakeSmsSender` records what would have been sent (unit tests).

Nothing here logs a phone number or a provider error text (which can contain
one): failures are reported by HTTP status and the provider's error code.
Only aiohttp is imported, so the action server can use this module too.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from typing import Awaitable, Callable, List, Optional, Protocol

import aiohttp

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twilio.com"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SmsSendError(Exception):
    """A message could not be sent (after the retries, if the failure was temporary)."""

    def __init__(self, reason: str, status: Optional[int] = None, code: Optional[int] = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.code = code

    def __str__(self) -> str:
        details = [
            f"status {self.status}" if self.status is not None else "",
            f"code {self.code}" if self.code else "",
        ]
        extra = ", ".join(d for d in details if d)
        return f"{self.reason} ({extra})" if extra else self.reason


class SmsSender(Protocol):
    async def send(self, to: str, body: str, from_number: Optional[str] = None) -> str:
        """Send one SMS; returns the provider's message id. Raises SmsSendError."""
        ...

    async def close(self) -> None: ...


@dataclass
class SentSms:
    to: str
    body: str
    from_number: Optional[str]


@dataclass
class FakeSmsSender:
    """Records messages instead of sending them; ``fail_with`` makes the next sends fail."""

    sent: List[SentSms] = field(default_factory=list)
    fail_with: Optional[SmsSendError] = None
    closed: bool = False

    async def send(self, to: str, body: str, from_number: Optional[str] = None) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(SentSms(to, body, from_number))
        return f"SMfake{len(self.sent):030d}"

    async def close(self) -> None:
        self.closed = True

    def bodies(self, to: Optional[str] = None) -> List[str]:
        return [m.body for m in self.sent if to is None or m.to == to]


class AioHttpTwilioSender:
    """Twilio's Messages API over aiohttp, with bounded retries."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: Optional[str] = None,
        api_base: str = DEFAULT_API_BASE,
        max_attempts: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 8.0,
        timeout: float = 15.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("the Twilio account SID and auth token are both needed to send SMS")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.account_sid = account_sid
        self._auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.from_number = from_number or None
        self.url = f"{api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._sleep = sleep
        self._session: Optional[aiohttp.ClientSession] = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout, auth=self._auth)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _delay(self, attempt: int, retry_after: Optional[str] = None) -> float:
        delay = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        if retry_after:
            try:
                delay = min(self.max_delay, max(delay, float(retry_after)))
            except ValueError:
                pass
        return delay * (1 + random.uniform(0, 0.1))

    async def send(self, to: str, body: str, from_number: Optional[str] = None) -> str:
        sender = self.from_number or from_number
        if not sender:
            raise SmsSendError("no From number: set TWILIO_FROM_NUMBER")
        form = {"To": to, "From": sender, "Body": body}
        last: Optional[SmsSendError] = None
        for attempt in range(1, self.max_attempts + 1):
            retry_after: Optional[str] = None
            try:
                async with self._client().post(self.url, data=form) as resp:
                    if 200 <= resp.status < 300:
                        return await _message_sid(resp)
                    code = await _error_code(resp)
                    last = SmsSendError("the provider refused the message", resp.status, code)
                    if resp.status not in RETRY_STATUSES:
                        raise last
                    retry_after = resp.headers.get("Retry-After")
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                last = SmsSendError(f"network error: {type(exc).__name__}")
            if attempt < self.max_attempts:
                delay = self._delay(attempt, retry_after)
                logger.warning("sms: sending failed (%s); retry %d in %.1fs", last, attempt, delay)
                await self._sleep(delay)
        assert last is not None
        raise SmsSendError(
            f"gave up after {self.max_attempts} attempts: {last.reason}", last.status, last.code
        )


async def _message_sid(resp: aiohttp.ClientResponse) -> str:
    """The new message's id from a success response ("" when the body is not the expected JSON)."""
    try:
        data = await resp.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return ""
    sid = data.get("sid") if isinstance(data, dict) else None
    return sid if isinstance(sid, str) else ""


async def _error_code(resp: aiohttp.ClientResponse) -> Optional[int]:
    """Twilio's numeric error code from an error response, if it has one (never its message text)."""
    try:
        data = await resp.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return None
    code = data.get("code") if isinstance(data, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None
