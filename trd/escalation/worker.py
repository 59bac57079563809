"""The escalation delivery worker: ``python -m trd.escalation.worker``.

Polls the outbox (``trd_escalations`` in ``DATABASE_URL``) every
``ESCALATION_POLL_SECONDS`` (default 1 s), claims due rows (see
``trd.escalation.outbox``) and delivers each through its destination's notifier:
the signed webhook and/or the on-call SMS (settings: ``trd.escalation.config``).

- 2xx (or the SMS API's acceptance): the row is delivered.
- Anything else (an HTTP error, a redirect, a timeout, a refused connection, a
  destination without settings): the attempt is audited and the row is due again after
  an exponential backoff with jitter (``ESCALATION_BACKOFF_BASE_SECONDS`` doubling up to
  ``ESCALATION_BACKOFF_MAX_SECONDS``; a ``Retry-After`` is honoured up to the cap). It is
  never given up: from attempt :data:`LOUD_AFTER_ATTEMPTS` on, every failure is logged
  at ERROR level as ``ESCALATION NOT DELIVERED``.
- Killed mid-delivery (SIGKILL, a crash, a power cut): the row is due again when its
  lease (``ESCALATION_LEASE_SECONDS``) ends; delivery is at least once, with the same id.
- SIGTERM / SIGINT: no new claims; deliveries in flight get up to the HTTP timeout to
  finish, the rest are handed back (due at once); exit status 0.

Several workers may run against one database. Logs go to stdout and never contain a
phone number, a secret or what the person wrote. Exit status 2 means a setting is
malformed (the message names it): a deployment that believes it alerts a care team
must not run without doing so.

    python -m trd.escalation.worker          run until stopped
    python -m trd.escalation.worker --once   deliver what is due now, then exit
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import time
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple

from sqlalchemy.exc import IntegrityError

from trd.background import DB_RETRY_MAX_SECONDS, migrate_until_ready, setup_logging, stop_on_signals
from trd.escalation.backoff import retry_delay
from trd.escalation.config import EscalationConfigError, WorkerConfig
from trd.escalation.journal import Entry as JournalEntry
from trd.escalation.journal import Journal
from trd.escalation.notifiers import (
    Delivery,
    DeliveryResult,
    Notifier,
    SmsNotifier,
    UnconfiguredNotifier,
    WebhookNotifier,
)
from trd.escalation.outbox import Claim, SqlOutbox
from trd.escalation.payload import ContactLookup, SmsStoreContacts, with_phone
from trd.store.repository import DESTINATION_SMS, DESTINATION_WEBHOOK, EscalationRequest, utcnow

logger = logging.getLogger("trd.escalation.worker")

LOUD_AFTER_ATTEMPTS = 5
READY_MESSAGE = "escalation worker started"
STOPPED_MESSAGE = "escalation worker stopped"


def build_notifiers(config: WorkerConfig) -> Dict[str, Notifier]:
    """One notifier per destination; an unconfigured one fails every attempt, saying what to set."""
    notifiers: Dict[str, Notifier] = {}
    if config.webhook is not None:
        notifiers[DESTINATION_WEBHOOK] = WebhookNotifier(config.webhook, timeout=config.http_timeout_seconds)
    else:
        notifiers[DESTINATION_WEBHOOK] = UnconfiguredNotifier(
            DESTINATION_WEBHOOK, "set ESCALATION_WEBHOOK_URL and ESCALATION_WEBHOOK_SECRET for this worker"
        )
    if config.sms is not None:
        notifiers[DESTINATION_SMS] = SmsNotifier(
            config.sms, config.service_name, timeout=config.http_timeout_seconds
        )
    else:
        notifiers[DESTINATION_SMS] = UnconfiguredNotifier(
            DESTINATION_SMS, "set ONCALL_SMS_NUMBER and the TWILIO_* settings for this worker"
        )
    return notifiers


class Worker:
    """Claims due outbox rows and delivers them; see the module docstring."""

    def __init__(
        self,
        outbox: SqlOutbox,
        notifiers: Mapping[str, Notifier],
        config: WorkerConfig,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] = random.random,
        contacts: Optional[ContactLookup] = None,
        journal: Optional[Journal] = None,
        repository: Optional[Any] = None,
    ) -> None:
        """``contacts`` decrypts an SMS person's number for the request only (the outbox keeps the
        sender id); None: the number cannot be read and the care team is told it is unavailable.
        ``journal`` and ``repository``: crises spooled while the database was down are delivered
        from the journal and moved into the database through ``repository`` when it is back."""
        self.contacts = contacts
        self.journal = journal
        self.repository = repository
        self._journal_retry: Dict[str, Tuple[float, int]] = {}  # entry id -> (next try, failures)
        self._maintained_at = float("-inf")
        self.outbox = outbox
        self.notifiers = dict(notifiers)
        self.config = config
        self._clock = clock
        self._rand = rand
        self._in_flight: Set[asyncio.Task] = set()

    def retry_delay(self, attempt: int, result: DeliveryResult) -> float:
        """Seconds until the next attempt after failed attempt ``attempt``."""
        base, cap = self.config.backoff_base_seconds, self.config.backoff_max_seconds
        delay = retry_delay(attempt, base, cap, self._rand)
        if result.retry_after is not None:
            delay = max(delay, min(result.retry_after, cap))
        return delay

    async def deliver(self, claim: Claim) -> DeliveryResult:
        """One attempt at a claimed row, reported to the outbox (never raises, except cancellation)."""
        notifier = self.notifiers.get(claim.destination) or UnconfiguredNotifier(
            claim.destination, f"this worker has no notifier for {claim.destination!r}"
        )
        if claim.recovered:
            logger.warning(
                "escalation %s (%s, conversation %s): attempt %d was abandoned by a stopped worker; "
                "delivering again",
                claim.id,
                claim.destination,
                claim.conversation_id,
                claim.attempt - 1,
            )
        # The number is decrypted for this request only; the outbox row keeps the sender id.
        payload = await asyncio.to_thread(with_phone, claim.payload, self.contacts)
        delivery = Delivery(claim.id, claim.destination, payload, claim.attempt, claim.conversation_id)
        try:
            result = await notifier.deliver(delivery)
        except asyncio.CancelledError:
            await self._release(claim)
            raise
        except Exception as exc:  # noqa: BLE001 - a notifier bug must not stop the worker
            logger.exception("escalation %s: the %s notifier failed", claim.id, claim.destination)
            result = DeliveryResult(False, error=f"notifier error: {type(exc).__name__}")
        try:
            if result.delivered:
                await asyncio.to_thread(self.outbox.mark_delivered, claim, result.http_status)
                logger.info(
                    "escalation %s delivered to %s (conversation %s, channel %s, attempt %d)",
                    claim.id,
                    claim.destination,
                    claim.conversation_id,
                    claim.channel,
                    claim.attempt,
                )
            else:
                wait = self.retry_delay(claim.attempt, result)
                next_at = self._clock() + timedelta(seconds=wait)
                await asyncio.to_thread(
                    self.outbox.mark_failed, claim, next_at, result.http_status, result.error
                )
                loud = claim.attempt >= LOUD_AFTER_ATTEMPTS
                logger.log(
                    logging.ERROR if loud else logging.WARNING,
                    "%sescalation %s to %s (conversation %s) failed on attempt %d: %s; retrying in %.1fs",
                    "ESCALATION NOT DELIVERED: " if loud else "",
                    claim.id,
                    claim.destination,
                    claim.conversation_id,
                    claim.attempt,
                    result.describe(),
                    wait,
                )
        except Exception:  # noqa: BLE001 - the lease brings the row back
            logger.exception(
                "escalation %s: could not record the outcome (%s) of attempt %d; the row is retried "
                "when its lease ends",
                claim.id,
                result.describe(),
                claim.attempt,
            )
        return result

    async def _release(self, claim: Claim) -> None:
        try:
            await asyncio.to_thread(self.outbox.release, claim)
            logger.info("escalation %s handed back unfinished (the worker is stopping)", claim.id)
        except Exception:  # noqa: BLE001 - the lease brings the row back
            logger.exception(
                "escalation %s: could not hand it back; it is retried when its lease ends", claim.id
            )

    def _start(self, claims: List[Claim]) -> None:
        for claim in claims:
            task = asyncio.create_task(self.deliver(claim), name=f"escalation-{claim.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    # --- the escalation journal (crises spooled while the database was down) ------------------
    async def drain_journal(self) -> int:
        """Move spooled crises into the database, or deliver them from the journal while it is
        down (once per destination); empty the journal when all are moved. Returns how many
        entries are still waiting. Never raises (except cancellation)."""
        if self.journal is None:
            return 0
        journal = self.journal
        try:
            entries = await asyncio.to_thread(journal.pending)
        except Exception:  # noqa: BLE001 - an unreadable journal must not stop the outbox
            logger.exception("escalation journal %s could not be read", journal.path)
            return 0
        waiting = 0
        for entry in entries:
            if await self._move(entry):
                continue
            waiting += 1
            await self._deliver_from_journal(entry)
        if not waiting and entries:
            try:
                await asyncio.to_thread(journal.compact)
            except Exception:  # noqa: BLE001 - compaction only saves space
                logger.exception("escalation journal %s could not be emptied", journal.path)
        return waiting

    async def _move(self, entry: JournalEntry) -> bool:
        """Write a spooled crisis and its rows into the database; False while it is unusable."""
        if self.repository is None or self.journal is None:
            return False
        request = None
        if entry.payloads:
            request = EscalationRequest(
                channel=entry.channel,
                payloads=entry.payloads,
                journal={"deliver": entry.deliver, "delivered": dict(entry.delivered)},
            )
        try:
            await asyncio.to_thread(
                self.repository.record_crisis,
                entry.conversation_id,
                entry.input_channel,
                entry.category,
                entry.excerpt,
                escalation=request,
                message_id=entry.message_id,
            )
        except IntegrityError:
            # Its rows are already there (moved before, the "moved" line lost in a crash).
            logger.warning("escalation journal entry %s was already in the database", entry.id)
        except Exception as exc:  # noqa: BLE001 - the database is still down: deliver from the journal
            logger.error(
                "escalation journal entry %s (conversation %s) cannot be moved into the database yet (%s)",
                entry.id,
                entry.conversation_id,
                type(exc).__name__,
            )
            return False
        await asyncio.to_thread(self.journal.mark_moved, entry.id)
        logger.error(
            "escalation journal entry %s (conversation %s) moved into the database; delivered from the "
            "journal to: %s",
            entry.id,
            entry.conversation_id,
            ", ".join(entry.delivered) or "nothing yet (the outbox delivers it now)",
        )
        return True

    async def _deliver_from_journal(self, entry: JournalEntry) -> None:
        assert self.journal is not None
        targets = entry.undelivered
        if not targets:
            return
        next_try, failures = self._journal_retry.get(entry.id, (0.0, 0))
        if time.monotonic() < next_try:
            return
        failed = False
        for destination in targets:
            notifier = self.notifiers.get(destination) or UnconfiguredNotifier(
                destination, f"this worker has no notifier for {destination!r}"
            )
            payload = await asyncio.to_thread(with_phone, entry.payloads[destination], self.contacts)
            attempt = failures + 1
            delivery = Delivery(str(payload.get("id")), destination, payload, attempt, entry.conversation_id)
            try:
                result = await notifier.deliver(delivery)
            except Exception as exc:  # noqa: BLE001 - a notifier bug must not stop the worker
                result = DeliveryResult(False, error=f"notifier error: {type(exc).__name__}")
            if result.delivered:
                await asyncio.to_thread(self.journal.mark_delivered, entry.id, destination)
                logger.error(
                    "escalation %s delivered to %s FROM THE JOURNAL (the database is down; conversation %s)",
                    delivery.id,
                    destination,
                    entry.conversation_id,
                )
            else:
                failed = True
                logger.error(
                    "ESCALATION NOT DELIVERED: journal entry %s to %s (conversation %s) failed: %s",
                    entry.id,
                    destination,
                    entry.conversation_id,
                    result.describe(),
                )
        if failed:
            delay = retry_delay(
                failures + 1, self.config.backoff_base_seconds, self.config.backoff_max_seconds, self._rand
            )
            self._journal_retry[entry.id] = (time.monotonic() + delay, failures + 1)
        else:
            self._journal_retry.pop(entry.id, None)

    async def maintain(self, force: bool = False) -> None:
        """The periodic privacy job (trd.privacy.run_maintenance: RETENTION_DAYS, deletions kept
        until delivered, old web sessions), every PRIVACY_MAINTENANCE_SECONDS (3600; 0: never)."""
        every = self.config.maintenance_seconds
        now = time.monotonic()
        if not force and (every <= 0 or now - self._maintained_at < every):
            return
        self._maintained_at = now
        from trd.privacy import run_maintenance

        try:
            done = await asyncio.to_thread(run_maintenance, self.outbox.engine)
        except Exception:  # noqa: BLE001 - the outbox matters more; tried again next time
            logger.exception("the privacy maintenance job failed; trying again in %.0fs", every)
            return
        if any(done.values()):
            logger.info("privacy maintenance: %s", done)

    async def run_once(self) -> int:
        """Claim what is due now (up to the batch size) and deliver it; returns how many were claimed."""
        await self.drain_journal()
        claims = await asyncio.to_thread(
            self.outbox.claim_due, self.config.batch_size, self.config.lease_seconds
        )
        self._start(claims)
        if self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)
        return len(claims)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll and deliver until ``stop`` is set, then finish or hand back what is in flight."""
        failures = 0
        while not stop.is_set():
            await self.drain_journal()
            await self.maintain()
            free = self.config.batch_size - len(self._in_flight)
            wait = self.config.poll_seconds
            if free > 0:
                try:
                    claims = await asyncio.to_thread(self.outbox.claim_due, free, self.config.lease_seconds)
                    failures = 0
                except Exception:  # noqa: BLE001 - the database may come back; never exit over it
                    failures += 1
                    wait = min(DB_RETRY_MAX_SECONDS, self.config.poll_seconds * 2 ** min(failures, 10))
                    logger.exception("outbox: could not claim escalations (retrying in %.1fs)", wait)
                    claims = []
                if stop.is_set():
                    for claim in claims:
                        await self._release(claim)
                    break
                self._start(claims)
                if claims and len(claims) == free:
                    await asyncio.sleep(0)  # a full batch: there may be more due at once
                    continue
            else:
                await asyncio.wait(list(self._in_flight), timeout=wait, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass
        await self.drain(self.config.http_timeout_seconds + 2)

    async def drain(self, grace: float) -> None:
        """Let deliveries in flight finish for up to ``grace`` seconds; cancel (hand back) the rest."""
        if not self._in_flight:
            return
        tasks = list(self._in_flight)
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


# --- the command ------------------------------------------------------------------------------


def contact_lookup(env: Mapping[str, str] = os.environ) -> Optional[ContactLookup]:
    """The SMS store's numbers, when this worker has the key (PHONE_HASH_SECRET) to read them."""
    if not env.get("PHONE_HASH_SECRET", "").strip():
        logger.warning(
            "PHONE_HASH_SECRET is not set: an SMS person's number cannot be read, so escalations of SMS "
            "conversations go without it (the care team is told it is unavailable)"
        )
        return None
    return SmsStoreContacts()


async def serve(config: WorkerConfig, url: str, once: bool = False) -> int:
    stop = stop_on_signals()
    if not await migrate_until_ready(url, stop, logger):
        logger.info(STOPPED_MESSAGE)
        return 0
    outbox = SqlOutbox.from_url(url)
    notifiers = build_notifiers(config)
    from trd.store.sql import SqlRepository

    repository = SqlRepository.from_url(url)
    journal = Journal()
    worker = Worker(
        outbox, notifiers, config, contacts=contact_lookup(), journal=journal, repository=repository
    )
    logger.info("escalation journal: %s", journal.path)
    logger.info("%s (%s): %s", READY_MESSAGE, outbox.worker_id, config.describe())
    try:
        if once:
            count = await worker.run_once()
            logger.info("delivered or retried %d escalation(s)", count)
        else:
            await worker.run(stop)
    finally:
        for notifier in notifiers.values():
            try:
                await notifier.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                logger.exception("closing the %s notifier failed", notifier.destination)
        outbox.dispose()
        repository.dispose()
    logger.info(STOPPED_MESSAGE)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m trd.escalation.worker",
        description="Deliver crisis escalations from the outbox to the care team (webhook, on-call SMS).",
    )
    parser.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    args = parser.parse_args(argv)
    from trd import logredact

    logredact.install()  # first: no phone number, message text, token or secret in any log line (#10)
    setup_logging()
    from trd.store.db import DatabaseConfigError, database_url_from_env, parse_database_url

    try:
        config = WorkerConfig.from_env(os.environ)
        url = database_url_from_env()
        parse_database_url(url)
    except (EscalationConfigError, DatabaseConfigError) as exc:
        logger.error("the escalation worker cannot start: %s", exc)
        return 2
    for warning in config.warnings:
        logger.warning("%s", warning)
    if config.webhook is None and config.sms is None:
        logger.warning(
            "no care team is configured (ESCALATION_WEBHOOK_URL, ONCALL_SMS_NUMBER): crises are not escalated"
        )
    try:
        return asyncio.run(serve(config, url, once=args.once))
    except KeyboardInterrupt:  # pragma: no cover - SIGINT before the handler was installed
        return 0


if __name__ == "__main__":
    sys.exit(main())
