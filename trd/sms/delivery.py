"""Sends the SMS outbox (trd.sms.queues): each part once the one before it was taken.

:class:`OutboxPump` runs in the Rasa server's event loop (the SMS channel starts it). It
wakes when the channel queues parts (:meth:`OutboxPump.kick`) and every
``SMS_OUTBOX_POLL_SECONDS``; it claims the parts due, decrypts each person's number only to
send, and marks each part sent, or to be tried again later (network errors, 5xx, 429: the
sender's own quick retries first, then the queue's backoff), or failed for good (a 4xx the
provider will never accept, no number on file). Parts of one person go out in order.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Optional

from trd.sms.queues import OutboundPart, SmsQueues
from trd.sms.sender import RETRY_STATUSES, SmsSender, SmsSendError

logger = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 5.0


def is_permanent(error: SmsSendError) -> bool:
    """A refusal the provider will repeat (a 4xx other than 429): trying again cannot help."""
    return error.status is not None and 400 <= error.status < 500 and error.status not in RETRY_STATUSES


class OutboxPump:
    def __init__(
        self, queues: SmsQueues, sender: SmsSender, poll_seconds: float = DEFAULT_POLL_SECONDS
    ) -> None:
        self.queues = queues
        self.sender = sender
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: Optional[asyncio.Task[None]] = None
        self._stopping = False

    def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
            except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - shutting down
                self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                while await self.send_due() and not self._stopping:
                    pass
            except Exception:  # noqa: BLE001 - e.g. the database is away: try again at the next poll
                logger.exception("sms: sending the outbox failed; trying again in %.0fs", self.poll_seconds)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    async def send_due(self, limit: int = 20) -> int:
        """Send the parts due now (one per person); returns how many were tried."""
        parts = await asyncio.to_thread(self.queues.claim_due, limit)
        if parts:
            await asyncio.gather(*(self._send(part) for part in parts))
        return len(parts)

    async def _send(self, part: OutboundPart) -> None:
        store = self.queues.store
        phone = await asyncio.to_thread(store.phone_for_sender, part.sender_id)
        if phone is None:
            # Not given up at once: a message received while the database was away keeps its
            # number in the local spool until the spool is replayed, and its turn's replies can
            # be queued first (the write-locked database fault). Tried again with backoff; after
            # SMS_SEND_MAX_ATTEMPTS it is given up, logged at ERROR.
            when = await asyncio.to_thread(
                self.queues.mark_failed_attempt, part.id, "no phone number on file (yet)", False
            )
            if when is not None:
                logger.warning(
                    "sms: no phone number on file for %s yet; its reply stays queued until %s",
                    part.sender_id,
                    when.isoformat(timespec="seconds"),
                )
            return
        try:
            provider_sid = await self.sender.send(phone, part.body, from_number=part.from_number)
        except SmsSendError as exc:
            when = await asyncio.to_thread(
                self.queues.mark_failed_attempt, part.id, str(exc), is_permanent(exc)
            )
            if when is not None:
                logger.warning(
                    "sms: a reply part to %s was not sent (%s); it stays queued and is tried again at %s",
                    part.sender_id,
                    exc,
                    when.isoformat(timespec="seconds"),
                )
            return
        await asyncio.to_thread(self.queues.mark_sent, part.id, provider_sid)
