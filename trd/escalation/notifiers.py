"""Delivering one escalation to one destination, behind a small interface.

A :class:`Notifier` makes one attempt and reports what happened; it never raises and
never retries by itself (the worker's outbox does that, durably). Implementations:

- :class:`WebhookNotifier` POSTs the signed JSON payload with aiohttp (2xx = delivered;
  redirects are not followed: a 3xx is a failure, so a signed payload never goes
  anywhere but the configured URL).
- :class:`SmsNotifier` texts the on-call number a short alert through the SMS channel's
  :class:`trd.sms.sender.SmsSender` (one try per attempt).
- :class:`UnconfiguredNotifier` for a destination the worker has no settings for: every
  attempt fails with a message saying what to set, so the row waits, audited.
- :class:`FakeNotifier` records deliveries and plays back scripted results (tests).

Nothing connects at import time: HTTP sessions are opened on the first delivery.
Error texts never contain a phone number or a secret.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Protocol

import aiohttp

from trd.escalation.config import SmsSettings, WebhookSettings
from trd.escalation.payload import sms_text
from trd.escalation.signing import ATTEMPT_HEADER, ID_HEADER, SIGNATURE_HEADER, encode_body, sign
from trd.store.repository import DESTINATION_SMS, DESTINATION_WEBHOOK

MAX_ERROR_CHARS = 300
USER_AGENT = "trd-navigator-escalation/1"


@dataclass(frozen=True)
class Delivery:
    """One attempt at one outbox row."""

    id: str
    destination: str
    payload: Dict[str, Any]
    attempt: int
    conversation_id: str = ""


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    http_status: Optional[int] = None
    error: Optional[str] = None
    retry_after: Optional[float] = None  # seconds the destination asked us to wait (429/503)

    def describe(self) -> str:
        if self.delivered:
            return f"delivered (HTTP {self.http_status})" if self.http_status else "delivered"
        parts = [f"HTTP {self.http_status}" if self.http_status is not None else "", self.error or ""]
        return ", ".join(p for p in parts if p) or "failed"


class Notifier(Protocol):
    destination: str

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        """Make one delivery attempt; never raises."""
        ...

    async def close(self) -> None: ...


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "\u2026"


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP date: ignore it, the backoff applies
    return seconds if 0 <= seconds < 86400 else None


class WebhookNotifier:
    destination = DESTINATION_WEBHOOK

    def __init__(self, settings: WebhookSettings, timeout: float = 10.0) -> None:
        self.url = settings.url
        self._secret = settings.secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.timeout_seconds = timeout
        self._session: Optional[aiohttp.ClientSession] = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    def request_for(self, delivery: Delivery) -> tuple[bytes, Dict[str, str]]:
        """The exact body and headers of an attempt."""
        body = encode_body(delivery.payload)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(body, self._secret),
            ID_HEADER: delivery.id,
            ATTEMPT_HEADER: str(delivery.attempt),
        }
        return body, headers

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        try:
            body, headers = self.request_for(delivery)
        except (TypeError, ValueError) as exc:
            return DeliveryResult(False, error=_short(f"payload cannot be sent: {exc}"))
        try:
            async with self._client().post(
                self.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return DeliveryResult(True, http_status=resp.status)
                return DeliveryResult(
                    False,
                    http_status=resp.status,
                    error=_short(f"the webhook answered {resp.status} {resp.reason or ''}".strip()),
                    retry_after=_retry_after(resp.headers.get("Retry-After")),
                )
        except asyncio.TimeoutError:
            return DeliveryResult(False, error=f"no answer within {self.timeout_seconds:g}s (timeout)")
        except aiohttp.ClientError as exc:
            return DeliveryResult(False, error=_short(f"{type(exc).__name__}: {exc}"))
        except OSError as exc:
            return DeliveryResult(False, error=_short(f"{type(exc).__name__}: {exc}"))

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


class SmsNotifier:
    destination = DESTINATION_SMS

    def __init__(
        self,
        settings: SmsSettings,
        service_name: str,
        timeout: float = 10.0,
        sender: Any = None,
    ) -> None:
        self._to = settings.to_number
        self.service_name = service_name
        if sender is None:
            from trd.sms.sender import AioHttpTwilioSender

            sender = AioHttpTwilioSender(
                settings.account_sid,
                settings.auth_token,
                from_number=settings.from_number,
                api_base=settings.api_base,
                max_attempts=1,  # the outbox retries, durably
                timeout=timeout,
            )
        self._sender = sender

    def text_for(self, delivery: Delivery) -> str:
        return sms_text({**delivery.payload, "id": delivery.id}, self.service_name)

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        from trd.sms.sender import SmsSendError

        try:
            await self._sender.send(self._to, self.text_for(delivery))
        except SmsSendError as exc:
            return DeliveryResult(False, http_status=exc.status, error=_short(f"SMS not sent: {exc}"))
        except asyncio.TimeoutError:
            return DeliveryResult(False, error="SMS not sent: timeout")
        except Exception as exc:  # noqa: BLE001 - reported as a failed attempt, retried
            return DeliveryResult(False, error=_short(f"SMS not sent: {type(exc).__name__}"))
        return DeliveryResult(True)

    async def close(self) -> None:
        await self._sender.close()


class UnconfiguredNotifier:
    """A destination with rows in the outbox but no settings in this worker."""

    def __init__(self, destination: str, reason: str) -> None:
        self.destination = destination
        self.reason = reason

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        return DeliveryResult(False, error=_short(f"not configured: {self.reason}"))

    async def close(self) -> None:
        return None


@dataclass
class FakeNotifier:
    """Records deliveries; ``results`` are played back in order (then ``default``)."""

    destination: str = DESTINATION_WEBHOOK
    results: List[DeliveryResult] = field(default_factory=list)
    default: DeliveryResult = field(default_factory=lambda: DeliveryResult(True, http_status=200))
    delay: float = 0.0
    deliveries: List[Delivery] = field(default_factory=list)
    closed: bool = False

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        self.deliveries.append(delivery)
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.results.pop(0) if self.results else self.default

    async def close(self) -> None:
        self.closed = True

    def delivered_ids(self) -> List[str]:
        return [d.id for d in self.deliveries]
