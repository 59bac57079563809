"""The check-in scheduler: ``python -m trd.checkins.worker`` (started by ``make run``).

Every ``CHECKIN_POLL_SECONDS`` it claims what is due (``trd.checkins.store``: a lease,
``SKIP LOCKED`` on PostgreSQL) and acts on each claim:

- a paused or stopped subscription: the row is cancelled;
- the person's quiet hours (``CHECKIN_QUIET_HOURS``, their time zone): put off to their end;
- an SMS check-in or reminder: handed to the Rasa server (``POST {CHECKIN_TRIGGER_URL}
  /webhooks/twilio/checkin``, Bearer ``RASA_AUTH_TOKEN``), which puts it into the person's
  conversation (so the reply is understood) and texts it through the SMS channel; the
  server takes the send atomically, so a second worker or a retry never texts it twice;
- a web check-in (a personal link): it is open from now for the person's visit.

An unreachable server, a timeout or a 5xx: the attempt is audited and the row is due again
after a back-off (doubling from 5 s to 10 min). Every attempt is in ``trd_checkin_attempts``.
Killed (SIGKILL) mid-batch: the rows it held come back when their lease ends. SIGTERM or
SIGINT: no new claims; sends in flight finish; exit 0. Exit 2: a malformed setting.

    python -m trd.checkins.worker          run until stopped
    python -m trd.checkins.worker --once   act on what is due now, then exit
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import timedelta
from typing import Dict, List, Mapping, Optional, Protocol

import aiohttp

from trd.background import DB_RETRY_MAX_SECONDS, migrate_until_ready, setup_logging, stop_on_signals
from trd.checkins import schedule
from trd.checkins.clock import Clock, clock_from_env
from trd.checkins.config import CheckinConfig, CheckinConfigError
from trd.checkins.notify import missed_hook
from trd.checkins.store import (
    ACTION_SEND,
    OUT_DEFERRED,
    OUT_FAILED,
    CheckinStore,
    Claim,
)
from trd.escalation.backoff import nominal_delay
from trd.store.checkin_models import CHANNEL_WEB, SUB_ACTIVE

logger = logging.getLogger("trd.checkins.worker")

READY_MESSAGE = "check-in scheduler started"
STOPPED_MESSAGE = "check-in scheduler stopped"
TRIGGER_PATH = "/webhooks/twilio/checkin"
BACKOFF_BASE = 5.0
BACKOFF_MAX = 600.0


class TriggerResult:
    def __init__(self, outcome: str, detail: str = "", retry: bool = False) -> None:
        self.outcome = outcome  # sent, not_sent, duplicate, failed
        self.detail = detail
        self.retry = retry


class Trigger(Protocol):
    async def trigger(self, claim: Claim) -> TriggerResult: ...

    async def close(self) -> None: ...


class HttpTrigger:
    """Asks the Rasa server to put a check-in (or its reminder) into the person's conversation."""

    def __init__(self, base_url: str, token: str, timeout: float = 90.0) -> None:
        self.url = base_url.rstrip("/") + TRIGGER_PATH
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None

    async def trigger(self, claim: Claim) -> TriggerResult:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        body = {"checkin_id": claim.checkin_id, "token": claim.token, "action": claim.action}
        try:
            async with self._session.post(
                self.url, json=body, headers={"Authorization": f"Bearer {self.token}"}
            ) as resp:
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = {}
                outcome = str((data or {}).get("outcome") or "")
                if resp.status == 200 and outcome:
                    return TriggerResult(outcome, str((data or {}).get("detail") or ""))
                return TriggerResult("failed", f"HTTP {resp.status} {outcome}".strip(), retry=True)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return TriggerResult("failed", f"network error: {type(exc).__name__}", retry=True)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class Scheduler:
    def __init__(self, store: CheckinStore, trigger: Trigger, config: CheckinConfig, clock: Clock) -> None:
        self.store = store
        self.trigger = trigger
        self.config = config
        self._clock = clock
        self._in_flight: set = set()

    def backoff(self, attempt: int) -> float:
        return nominal_delay(max(1, attempt), BACKOFF_BASE, BACKOFF_MAX)

    async def act(self, claim: Claim) -> str:
        """One claimed row; returns what became of it (for logs and tests). Never raises."""
        try:
            return await self._act(claim)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the lease brings the row back
            logger.exception("checkin %s: acting on it failed", claim.checkin_id)
            try:
                when = self._clock() + timedelta(seconds=self.backoff(claim.attempt))
                await asyncio.to_thread(self.store.retry_later, claim, when, f"error: {type(exc).__name__}")
            except Exception:  # noqa: BLE001
                logger.exception(
                    "checkin %s: could not record the failure; retried after the lease", claim.checkin_id
                )
            return "error"

    async def _act(self, claim: Claim) -> str:
        sub = claim.subscription
        if sub.status != SUB_ACTIVE:
            await asyncio.to_thread(self.store.cancel, claim, f"check-ins are {sub.status}")
            return "cancelled"
        now = self._clock()
        if schedule.in_quiet_hours(now, sub.timezone, self.config.quiet_hours):
            wake = schedule.daytime(now, sub.timezone, self.config.quiet_hours)
            await asyncio.to_thread(self.store.retry_later, claim, wake, "quiet hours", OUT_DEFERRED)
            logger.info(
                "checkin %s: quiet hours for the person; put off to %s", claim.checkin_id, wake.isoformat()
            )
            return "deferred"
        if sub.channel == CHANNEL_WEB:
            if claim.action == ACTION_SEND:
                await asyncio.to_thread(self.store.web_due, claim, missed_hook(self.store))
                return "open"
            await asyncio.to_thread(self.store.cancel, claim, "web check-ins have no reminder")
            return "cancelled"
        result = await self.trigger.trigger(claim)
        if result.retry:
            wait = self.backoff(claim.attempt)
            when = self._clock() + timedelta(seconds=wait)
            await asyncio.to_thread(
                self.store.retry_later, claim, when, result.detail or "failed", OUT_FAILED
            )
            logger.warning(
                "checkin %s (%s): %s; trying again in %.0fs",
                claim.checkin_id,
                claim.action,
                result.detail,
                wait,
            )
            return "retry"
        # The Rasa server took the row on (sent, not sent) or it was not this claim's any more.
        await asyncio.to_thread(self.store.record_outcome, claim, result.outcome, result.detail or None)
        logger.info(
            "checkin %s (%s, #%d): %s", claim.checkin_id, claim.action, claim.sequence, result.outcome
        )
        return result.outcome

    async def run_once(self) -> List[str]:
        claims = await asyncio.to_thread(self.store.claim_due, self.config.batch_size)
        return list(await asyncio.gather(*(self.act(c) for c in claims)))

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            wait = self.config.poll_seconds
            try:
                claims = await asyncio.to_thread(self.store.claim_due, self.config.batch_size)
                failures = 0
            except Exception:  # noqa: BLE001 - the database may come back
                failures += 1
                wait = min(DB_RETRY_MAX_SECONDS, self.config.poll_seconds * 2 ** min(failures, 10))
                logger.exception("checkins: could not claim due check-ins (retrying in %.1fs)", wait)
                claims = []
            if claims:
                await asyncio.gather(*(self.act(c) for c in claims))
                if len(claims) == self.config.batch_size:
                    continue  # more may be due at once
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass


async def serve(
    config: CheckinConfig, url: str, token: str, env: Mapping[str, str], once: bool = False
) -> int:
    stop = stop_on_signals()
    if not await migrate_until_ready(url, stop, logger):
        logger.info(STOPPED_MESSAGE)
        return 0
    clock = clock_from_env(env)
    store = CheckinStore.from_url(url, config=config, clock=clock)
    trigger = HttpTrigger(config.trigger_url, token)
    scheduler = Scheduler(store, trigger, config, clock)
    logger.info("%s (%s): %s", READY_MESSAGE, store.worker_id, config.describe())
    try:
        if once:
            outcomes = await scheduler.run_once()
            counts: Dict[str, int] = {}
            for o in outcomes:
                counts[o] = counts.get(o, 0) + 1
            logger.info("acted on %d check-in(s): %s", len(outcomes), counts)
        else:
            await scheduler.run(stop)
    finally:
        await trigger.close()
        store.dispose()
    logger.info(STOPPED_MESSAGE)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m trd.checkins.worker", description="Send weekly check-ins when they are due."
    )
    parser.add_argument("--once", action="store_true", help="act on what is due now, then exit")
    args = parser.parse_args(argv)
    from trd import logredact

    logredact.install()  # first: no phone number, message text, token or secret in any log line (#10)
    setup_logging()
    from trd.store.db import DatabaseConfigError, database_url_from_env, parse_database_url

    try:
        config = CheckinConfig.from_env(os.environ)
        url = database_url_from_env()
        parse_database_url(url)
    except (CheckinConfigError, DatabaseConfigError) as exc:
        logger.error("the check-in scheduler cannot start: %s", exc)
        return 2
    token = os.environ.get("RASA_AUTH_TOKEN", "").strip()
    if not token:
        logger.error(
            "the check-in scheduler cannot start: RASA_AUTH_TOKEN is not set "
            "(it authenticates to the Rasa server)"
        )
        return 2
    try:
        return asyncio.run(serve(config, url, token, os.environ, once=args.once))
    except KeyboardInterrupt:  # pragma: no cover
        return 0


if __name__ == "__main__":
    sys.exit(main())
