"""The worker's side of the escalation outbox (``trd_escalations``, ``trd_escalation_attempts``).

Rows are written by the action server together with the crisis
(``Repository.record_crisis(..., escalation=...)``); this module claims, reports and
audits them. Delivery is at least once:

- **Claim.** A due row (``status = pending`` and ``next_attempt_at <= now``) is taken
  by moving ``next_attempt_at`` one lease into the future, adding one to ``attempts``
  and setting a fresh ``claim_token``, and an audit row ``in_progress`` is written, all
  in one transaction. On PostgreSQL the due rows are selected ``FOR UPDATE SKIP
  LOCKED``, so concurrent workers take disjoint rows without waiting on each other. On
  SQLite (one writer at a time) each row is taken by a conditional ``UPDATE ... WHERE
  status = 'pending' AND attempts = <seen> AND next_attempt_at <= now``: only one
  worker's update can match. Either way a row is never held by two live workers.
- **Report.** Delivered: ``status = delivered`` (whoever holds the claim; a delivery is
  a delivery). Failed: the row is due again after the backoff, if the claim is still
  this worker's (``claim_token``). Either way the attempt's audit row gets the outcome,
  the HTTP status or the error text.
- **Crash.** A worker killed mid-delivery reports nothing: the row becomes due again
  when its lease ends, and the next claim marks the silent attempt ``abandoned``.
  The destination may then see the escalation twice, with the same id.
- **Stop.** A worker stopped (SIGTERM) with a delivery in flight hands the row back at
  once (``released``), so the next worker need not wait for the lease.

Once a row is delivered, the phone number in its payload is removed: the destination
has it, and the database need not keep it in clear.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, TypeVar, Union

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session

from trd.store.db import make_engine, session_factory
from trd.store.escalation_models import (
    OUTCOME_ABANDONED,
    OUTCOME_DELIVERED,
    OUTCOME_FAILED,
    OUTCOME_IN_PROGRESS,
    OUTCOME_RELEASED,
    PRIORITY_URGENT,
    STATUS_DELIVERED,
    STATUS_PENDING,
    Escalation,
    EscalationAttempt,
)
from trd.store.repository import EscalationRecord, utcnow
from trd.store.sql import default_worker_id, escalation_record, run_transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_ERROR_CHARS = 1000
ABANDONED_NOTE = "no outcome reported: the worker stopped or died mid-attempt; taken again after the lease"
PHONE_REMOVED_NOTE = "phone number removed from the outbox after delivery"


@dataclass(frozen=True)
class Claim:
    """A row this worker holds for one attempt."""

    id: str
    destination: str
    conversation_id: str
    channel: str
    payload: Dict[str, Any]
    attempt: int  # this attempt's number (1 = first)
    token: str
    created_at: datetime
    recovered: bool = False  # an earlier attempt was abandoned (its worker died)


@dataclass(frozen=True)
class AttemptRecord:
    escalation_id: str
    attempt: int
    worker: str
    started_at: datetime
    finished_at: Optional[datetime]
    outcome: str
    http_status: Optional[int]
    error: Optional[str]


def redact_phone(payload: Dict[str, Any]) -> Dict[str, Any]:
    """The payload without the person's phone number (kept once it has been delivered)."""
    contact = payload.get("contact")
    if not isinstance(contact, dict) or not contact.get("phone"):
        return payload
    return {**payload, "contact": {**contact, "phone": None, "phone_removed": PHONE_REMOVED_NOTE}}


def _clip(text: Optional[str]) -> Optional[str]:
    if text is None:
        return None
    text = text.replace("\x00", "")
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "\u2026"


class SqlOutbox:
    """Claiming and reporting outbox rows on SQLite or PostgreSQL (synchronous; thread-safe)."""

    def __init__(
        self,
        engine: Engine,
        worker_id: Optional[str] = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.worker_id = (worker_id or default_worker_id())[:128]
        self._sessions = session_factory(engine)
        self._clock = clock
        self._postgres = engine.dialect.name == "postgresql"

    @classmethod
    def from_url(cls, url: Union[str, URL], **kwargs: Any) -> SqlOutbox:
        return cls(make_engine(url), **kwargs)

    def dispose(self) -> None:
        self.engine.dispose()

    def _run(self, work: Callable[[Session], T]) -> T:
        return run_transaction(self._sessions, work, "outbox: ", logger)

    # -- claiming -----------------------------------------------------------------------------
    def claim_due(self, limit: int, lease_seconds: float) -> List[Claim]:
        """Take up to ``limit`` due rows for one attempt each: urgent ones (crises) before routine
        ones (follow-up notifications), then the oldest due first."""
        if limit < 1:
            return []
        now = self._clock()
        lease_end = now + timedelta(seconds=lease_seconds)
        due = (
            sa.select(Escalation.id, Escalation.attempts)
            .where(Escalation.status == STATUS_PENDING, Escalation.next_attempt_at <= now)
            .order_by(
                sa.case((Escalation.priority == PRIORITY_URGENT, 0), else_=1),
                Escalation.next_attempt_at,
                Escalation.created_at,
            )
            .limit(limit)
        )
        if self._postgres:

            def locked(session: Session) -> List[Claim]:
                rows = session.execute(due.with_for_update(skip_locked=True)).all()
                taken = [self._take(session, row.id, int(row.attempts), now, lease_end) for row in rows]
                return [c for c in taken if c is not None]

            return self._run(locked)

        candidates = self._run(lambda session: session.execute(due).all())
        claims: List[Claim] = []
        for row in candidates:

            def one(session: Session, row: Any = row) -> Optional[Claim]:
                return self._take(session, row.id, int(row.attempts), now, lease_end)

            claim = self._run(one)
            if claim is not None:
                claims.append(claim)
        return claims

    def _take(
        self, session: Session, row_id: str, seen_attempts: int, now: datetime, lease_end: datetime
    ) -> Optional[Claim]:
        token = str(uuid.uuid4())
        attempt = seen_attempts + 1
        table = Escalation.__table__
        result = session.execute(
            sa.update(table)
            .where(
                table.c.id == row_id,
                table.c.status == STATUS_PENDING,
                table.c.attempts == seen_attempts,
                table.c.next_attempt_at <= now,
            )
            .values(attempts=attempt, claim_token=token, claimed_by=self.worker_id, next_attempt_at=lease_end)
        )
        if result.rowcount != 1:
            return None  # another worker took it first
        attempts_table = EscalationAttempt.__table__
        abandoned = session.execute(
            sa.update(attempts_table)
            .where(
                attempts_table.c.escalation_id == row_id,
                attempts_table.c.outcome == OUTCOME_IN_PROGRESS,
            )
            .values(outcome=OUTCOME_ABANDONED, finished_at=now, error=ABANDONED_NOTE)
        )
        session.execute(
            sa.insert(attempts_table).values(
                escalation_id=row_id,
                attempt=attempt,
                worker=self.worker_id,
                started_at=now,
                outcome=OUTCOME_IN_PROGRESS,
            )
        )
        row = session.execute(sa.select(Escalation).where(Escalation.id == row_id)).scalar_one()
        return Claim(
            id=row.id,
            destination=row.destination,
            conversation_id=row.conversation_id,
            channel=row.channel,
            payload=dict(row.payload or {}),
            attempt=attempt,
            token=token,
            created_at=row.created_at,
            recovered=bool(abandoned.rowcount),
        )

    # -- reporting ---------------------------------------------------------------------------
    def mark_delivered(self, claim: Claim, http_status: Optional[int] = None) -> bool:
        """The destination accepted it; returns False if it was already marked delivered."""
        now = self._clock()

        def work(session: Session) -> bool:
            row = session.execute(
                sa.select(Escalation).where(Escalation.id == claim.id, Escalation.status == STATUS_PENDING)
            ).scalar_one_or_none()
            changed = row is not None
            if row is not None:
                row.status = STATUS_DELIVERED
                row.delivered_at = now
                row.claim_token = None
                row.claimed_by = None
                row.last_error = None
                row.payload = redact_phone(dict(row.payload or {}))
            self._finish_attempt(session, claim, OUTCOME_DELIVERED, now, http_status, None)
            return changed

        return self._run(work)

    def mark_failed(
        self, claim: Claim, next_attempt_at: datetime, http_status: Optional[int], error: Optional[str]
    ) -> bool:
        """The attempt failed: due again at ``next_attempt_at`` (if the claim is still ours)."""
        now = self._clock()
        table = Escalation.__table__

        def work(session: Session) -> bool:
            result = session.execute(
                sa.update(table)
                .where(
                    table.c.id == claim.id,
                    table.c.claim_token == claim.token,
                    table.c.status == STATUS_PENDING,
                )
                .values(
                    next_attempt_at=next_attempt_at,
                    claim_token=None,
                    claimed_by=None,
                    last_error=_clip(error),
                )
            )
            self._finish_attempt(session, claim, OUTCOME_FAILED, now, http_status, error)
            return bool(result.rowcount)

        return self._run(work)

    def release(self, claim: Claim, reason: str = "the worker was stopped mid-attempt") -> bool:
        """Hand an unfinished claim back: due at once for the next worker."""
        now = self._clock()
        table = Escalation.__table__

        def work(session: Session) -> bool:
            result = session.execute(
                sa.update(table)
                .where(
                    table.c.id == claim.id,
                    table.c.claim_token == claim.token,
                    table.c.status == STATUS_PENDING,
                )
                .values(next_attempt_at=now, claim_token=None, claimed_by=None)
            )
            self._finish_attempt(session, claim, OUTCOME_RELEASED, now, None, reason)
            return bool(result.rowcount)

        return self._run(work)

    @staticmethod
    def _finish_attempt(
        session: Session,
        claim: Claim,
        outcome: str,
        now: datetime,
        http_status: Optional[int],
        error: Optional[str],
    ) -> None:
        table = EscalationAttempt.__table__
        session.execute(
            sa.update(table)
            .where(table.c.escalation_id == claim.id, table.c.attempt == claim.attempt)
            .values(outcome=outcome, finished_at=now, http_status=http_status, error=_clip(error))
        )

    # -- reading (operators, tests) -------------------------------------------------------------
    def get(self, escalation_id: str) -> Optional[EscalationRecord]:
        def work(session: Session) -> Optional[EscalationRecord]:
            row = session.execute(
                sa.select(Escalation).where(Escalation.id == escalation_id)
            ).scalar_one_or_none()
            return escalation_record(row) if row is not None else None

        return self._run(work)

    def attempts(self, escalation_id: str) -> List[AttemptRecord]:
        def work(session: Session) -> List[AttemptRecord]:
            rows = session.execute(
                sa.select(EscalationAttempt)
                .where(EscalationAttempt.escalation_id == escalation_id)
                .order_by(EscalationAttempt.attempt)
            ).scalars()
            return [
                AttemptRecord(
                    escalation_id=r.escalation_id,
                    attempt=int(r.attempt),
                    worker=r.worker,
                    started_at=r.started_at,
                    finished_at=r.finished_at,
                    outcome=r.outcome,
                    http_status=r.http_status,
                    error=r.error,
                )
                for r in rows
            ]

        return self._run(work)

    def pending(self) -> List[EscalationRecord]:
        """Every undelivered row, oldest first."""

        def work(session: Session) -> List[EscalationRecord]:
            rows = session.execute(
                sa.select(Escalation)
                .where(Escalation.status == STATUS_PENDING)
                .order_by(Escalation.created_at)
            ).scalars()
            return [escalation_record(r) for r in rows]

        return self._run(work)
