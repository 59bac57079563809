"""The check-ins' tables: subscribing, the schedule, claiming due work, answers.

Synchronous (SQLAlchemy); async callers use ``asyncio.to_thread``. Three processes use it:

- the action server: opt in, pause, resume, stop, record answers and the note;
- the scheduler worker (``trd.checkins.worker``): claim what is due, record attempts;
- the Rasa server (the SMS channel's check-in route): take the send, then report it.

Exactly once. The worker *claims* a due row (a lease: ``next_action_at`` moves one lease
ahead, a fresh ``claim_token``, ``attempts + 1``, an audit row ``in_progress``; on
PostgreSQL the due rows are read ``FOR UPDATE SKIP LOCKED`` so concurrent workers take
disjoint rows without waiting; on SQLite each row is taken by a conditional UPDATE only
one worker can match). It hands the claim to the Rasa server, which *takes* the send
with one more conditional UPDATE (``scheduled`` -> ``sending`` for this very token)
before anything is texted, and *finishes* it (``sent``, plus the next week's row and the
previous week marked ``missed``, in one transaction). So a worker killed mid-batch loses
nothing (its rows come back when the lease ends) and sends nothing twice (a stale token
cannot take the send; a taken send is never taken again). A send taken but never finished
(the Rasa server died in between) is counted as sent when its lease ends: a lost
question is better than one asked twice, and next week's row is created then.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Sequence, TypeVar, Union

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session

from trd.checkins import schedule
from trd.checkins.config import CheckinConfig
from trd.store.checkin_models import (
    CHANNEL_SMS,
    CHANNEL_WEB,
    OPEN_STATUSES,
    ST_ANSWERED,
    ST_CANCELLED,
    ST_MISSED,
    ST_NOT_SENT,
    ST_REMINDED,
    ST_SCHEDULED,
    ST_SENDING,
    ST_SENT,
    SUB_ACTIVE,
    SUB_PAUSED,
    SUB_STOPPED,
    Checkin,
    CheckinAttempt,
    CheckinCode,
    CheckinSubscription,
)
from trd.store.db import make_engine, session_factory
from trd.store.repository import utcnow
from trd.store.sql import default_worker_id, run_transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], datetime]

ACTION_SEND = "send"
ACTION_REMIND = "reminder"
OUT_IN_PROGRESS = "in_progress"
OUT_SENT = "sent"
OUT_NOT_SENT = "not_sent"
OUT_FAILED = "failed"
OUT_DEFERRED = "deferred"
OUT_ABANDONED = "abandoned"
OUT_CANCELLED = "cancelled"
OUT_SKIPPED = "skipped"
ABANDONED_NOTE = "no outcome reported: the worker or server stopped mid-attempt"
MAX_NOTE_CHARS = 500
MAX_ERROR_CHARS = 500
NINE = 9


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Subscription:
    id: int
    conversation_id: str
    channel: str
    sms_sender_id: Optional[str]
    status: str
    timezone: str
    link_expires_at: Optional[datetime] = None


@dataclass(frozen=True)
class CheckinRecord:
    id: str
    subscription_id: int
    sequence: int
    due_at: datetime
    status: str
    sent_at: Optional[datetime] = None
    reminded_at: Optional[datetime] = None
    answered_at: Optional[datetime] = None
    answers: Optional[List[Optional[int]]] = None
    total: Optional[int] = None
    note: Optional[str] = None
    attempts: int = 0
    next_action_at: Optional[datetime] = None


@dataclass(frozen=True)
class Claim:
    """A due row one worker holds for one attempt."""

    checkin_id: str
    action: str  # send, reminder
    token: str
    attempt: int
    sequence: int
    due_at: datetime
    subscription: Subscription
    recovered: bool = False


@dataclass(frozen=True)
class SendResult:
    """What finishing a send changed: the next check-in, and the ones now counted as missed."""

    next_checkin: Optional[CheckinRecord]
    missed: List[CheckinRecord] = field(default_factory=list)


def _sub(row: CheckinSubscription) -> Subscription:
    return Subscription(
        id=int(row.id),
        conversation_id=row.conversation_id,
        channel=row.channel,
        sms_sender_id=row.sms_sender_id,
        status=row.status,
        timezone=row.timezone,
        link_expires_at=row.link_expires_at,
    )


def _rec(row: Checkin) -> CheckinRecord:
    answers = row.answers if isinstance(row.answers, list) else None
    return CheckinRecord(
        id=row.id,
        subscription_id=int(row.subscription_id),
        sequence=int(row.sequence),
        due_at=row.due_at,
        status=row.status,
        sent_at=row.sent_at,
        reminded_at=row.reminded_at,
        answered_at=row.answered_at,
        answers=[a if isinstance(a, int) and not isinstance(a, bool) else None for a in answers]
        if answers is not None
        else None,
        total=row.total,
        note=row.note,
        attempts=int(row.attempts or 0),
        next_action_at=row.next_action_at,
    )


def clean_answers(answers: Sequence[Any]) -> List[Optional[int]]:
    """Nine items, each 0-3 or None (skipped); ValueError for anything else."""
    items = list(answers)
    if len(items) != NINE:
        raise ValueError("a PHQ-9 has nine items")
    out: List[Optional[int]] = []
    for item in items:
        if item is None:
            out.append(None)
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 3:
            out.append(int(item))
        else:
            raise ValueError(f"a PHQ-9 item is 0-3 or skipped, not {item!r}")
    return out


def total_of(answers: Sequence[Optional[int]]) -> Optional[int]:
    """The PHQ-9 total when all nine items were answered, else None."""
    if len(answers) != NINE or any(a is None for a in answers):
        return None
    return int(sum(a for a in answers if a is not None))


class CheckinStore:
    """The check-in tables on SQLite or PostgreSQL (thread-safe; schema from the migrations)."""

    def __init__(
        self,
        engine: Engine,
        config: Optional[CheckinConfig] = None,
        clock: Clock = utcnow,
        worker_id: Optional[str] = None,
    ) -> None:
        self.engine = engine
        self.config = config or CheckinConfig()
        self._sessions = session_factory(engine)
        self._clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        self.worker_id = (worker_id or default_worker_id())[:128]

    @classmethod
    def from_url(cls, url: Union[str, URL], **kwargs: Any) -> CheckinStore:
        return cls(make_engine(url), **kwargs)

    def dispose(self) -> None:
        self.engine.dispose()

    def now(self) -> datetime:
        return self._clock()

    def _run(self, work: Callable[[Session], T]) -> T:
        return run_transaction(self._sessions, work, "checkins: ", logger)

    # --- subscriptions --------------------------------------------------------------------

    def subscribe(
        self,
        conversation_id: str,
        channel: str,
        zone: str,
        sms_sender_id: Optional[str] = None,
    ) -> Subscription:
        """Opt in (or back in): active, with the next check-in scheduled (one interval from now)."""
        if channel not in (CHANNEL_SMS, CHANNEL_WEB):
            raise ValueError(f"unknown check-in channel {channel!r}")
        if channel == CHANNEL_SMS and not sms_sender_id:
            raise ValueError("SMS check-ins need the SMS sender id")
        schedule.local(self._clock(), zone)  # raises for an unknown zone
        now = self._clock()

        def work(session: Session) -> Subscription:
            row = session.execute(
                sa.select(CheckinSubscription).where(CheckinSubscription.conversation_id == conversation_id)
            ).scalar_one_or_none()
            if row is None:
                row = CheckinSubscription(
                    conversation_id=conversation_id,
                    channel=channel,
                    sms_sender_id=sms_sender_id,
                    status=SUB_ACTIVE,
                    timezone=zone,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                session.flush()
            else:
                row.channel = channel
                row.sms_sender_id = sms_sender_id if channel == CHANNEL_SMS else row.sms_sender_id
                row.status = SUB_ACTIVE
                row.timezone = zone
                row.updated_at = now
            self._ensure_next(session, row, now)
            return _sub(row)

        return self._run(work)

    def _ensure_next(self, session: Session, sub: CheckinSubscription, now: datetime) -> Optional[Checkin]:
        """The subscription's scheduled row, created one interval from now if there is none."""
        pending = session.execute(
            sa.select(Checkin).where(Checkin.subscription_id == sub.id, Checkin.status == ST_SCHEDULED)
        ).scalar_one_or_none()
        if pending is not None:
            if pending.next_action_at is None:
                pending.next_action_at = pending.due_at
            return pending
        last = session.execute(
            sa.select(sa.func.max(Checkin.sequence)).where(Checkin.subscription_id == sub.id)
        ).scalar_one()
        due = schedule.first_due(now, self.config.interval_seconds, sub.timezone, self.config.quiet_hours)
        row = Checkin(
            id=str(uuid.uuid4()),
            subscription_id=sub.id,
            sequence=int(last or 0) + 1,
            due_at=due,
            status=ST_SCHEDULED,
            next_action_at=due,
            attempts=0,
            created_at=now,
        )
        session.add(row)
        return row

    def subscription(self, conversation_id: str) -> Optional[Subscription]:
        def work(session: Session) -> Optional[Subscription]:
            row = session.execute(
                sa.select(CheckinSubscription).where(CheckinSubscription.conversation_id == conversation_id)
            ).scalar_one_or_none()
            return _sub(row) if row is not None else None

        return self._run(work)

    def subscription_for_sender(self, sender_id: str) -> Optional[Subscription]:
        """The subscription whose check-ins happen in this conversation (its own, or the SMS one it texts)."""

        def work(session: Session) -> Optional[Subscription]:
            row = session.execute(
                sa.select(CheckinSubscription).where(CheckinSubscription.conversation_id == sender_id)
            ).scalar_one_or_none()
            if row is None:
                row = session.execute(
                    sa.select(CheckinSubscription)
                    .where(CheckinSubscription.sms_sender_id == sender_id)
                    .order_by(CheckinSubscription.updated_at.desc())
                    .limit(1)
                ).scalar_one_or_none()
            return _sub(row) if row is not None else None

        return self._run(work)

    def subscription_by_id(self, subscription_id: int) -> Optional[Subscription]:
        def work(session: Session) -> Optional[Subscription]:
            row = session.get(CheckinSubscription, subscription_id)
            return _sub(row) if row is not None else None

        return self._run(work)

    def set_status(self, subscription_id: int, status: str) -> Subscription:
        """Pause or stop (nothing more is sent or reminded), or resume (the next one is scheduled)."""
        if status not in (SUB_ACTIVE, SUB_PAUSED, SUB_STOPPED):
            raise ValueError(f"unknown subscription status {status!r}")
        now = self._clock()

        def work(session: Session) -> Subscription:
            row = session.execute(
                sa.select(CheckinSubscription).where(CheckinSubscription.id == subscription_id)
            ).scalar_one()
            row.status = status
            row.updated_at = now
            if status == SUB_ACTIVE:
                self._ensure_next(session, row, now)
            else:
                session.execute(
                    sa.update(Checkin)
                    .where(Checkin.subscription_id == row.id, Checkin.status == ST_SCHEDULED)
                    .values(status=ST_CANCELLED, next_action_at=None, claim_token=None)
                )
                session.execute(
                    sa.update(Checkin)
                    .where(Checkin.subscription_id == row.id, Checkin.status.in_(OPEN_STATUSES))
                    .values(next_action_at=None)
                )
                if status == SUB_STOPPED:
                    row.link_token_hash = None
                    row.link_expires_at = None
            return _sub(row)

        return self._run(work)

    def set_link(self, subscription_id: int, token: str, expires_at: datetime) -> None:
        def work(session: Session) -> None:
            session.execute(
                sa.update(CheckinSubscription)
                .where(CheckinSubscription.id == subscription_id)
                .values(
                    link_token_hash=token_hash(token), link_expires_at=expires_at, updated_at=self._clock()
                )
            )

        self._run(work)

    def subscription_for_link(self, token: str) -> Optional[Subscription]:
        """The active subscription of an unexpired link; None otherwise."""
        if not isinstance(token, str) or not 32 <= len(token) <= 128:
            return None
        now = self._clock()

        def work(session: Session) -> Optional[Subscription]:
            row = session.execute(
                sa.select(CheckinSubscription).where(CheckinSubscription.link_token_hash == token_hash(token))
            ).scalar_one_or_none()
            if row is None or row.link_expires_at is None or row.link_expires_at <= now:
                return None
            if row.status == SUB_STOPPED:
                return None
            return _sub(row)

        return self._run(work)

    # --- a person's check-ins ------------------------------------------------------------

    def checkins(self, subscription_id: int) -> List[CheckinRecord]:
        def work(session: Session) -> List[CheckinRecord]:
            rows = session.execute(
                sa.select(Checkin)
                .where(Checkin.subscription_id == subscription_id)
                .order_by(Checkin.sequence)
            ).scalars()
            return [_rec(r) for r in rows]

        return self._run(work)

    def get(self, checkin_id: str) -> Optional[CheckinRecord]:
        def work(session: Session) -> Optional[CheckinRecord]:
            row = session.get(Checkin, checkin_id)
            return _rec(row) if row is not None else None

        return self._run(work)

    def current(self, subscription_id: int) -> Optional[CheckinRecord]:
        """The check-in being answered now: the latest one sent and not finished."""

        def work(session: Session) -> Optional[CheckinRecord]:
            row = session.execute(
                sa.select(Checkin)
                .where(Checkin.subscription_id == subscription_id, Checkin.status.in_(OPEN_STATUSES))
                .order_by(Checkin.sequence.desc())
                .limit(1)
            ).scalar_one_or_none()
            return _rec(row) if row is not None else None

        return self._run(work)

    def upcoming(self, subscription_id: int) -> Optional[CheckinRecord]:
        def work(session: Session) -> Optional[CheckinRecord]:
            row = session.execute(
                sa.select(Checkin)
                .where(Checkin.subscription_id == subscription_id, Checkin.status == ST_SCHEDULED)
                .order_by(Checkin.sequence.desc())
                .limit(1)
            ).scalar_one_or_none()
            return _rec(row) if row is not None else None

        return self._run(work)

    def start_now(self, subscription_id: int) -> CheckinRecord:
        """A check-in the person starts themselves (a web link, "check in now"): the open one, or
        the scheduled one taken early, marked sent now (the next is scheduled from it)."""
        now = self._clock()

        def work(session: Session) -> CheckinRecord:
            sub = session.execute(
                sa.select(CheckinSubscription).where(CheckinSubscription.id == subscription_id)
            ).scalar_one()
            open_row = session.execute(
                sa.select(Checkin)
                .where(Checkin.subscription_id == sub.id, Checkin.status.in_(OPEN_STATUSES))
                .order_by(Checkin.sequence.desc())
                .limit(1)
            ).scalar_one_or_none()
            if open_row is not None:
                return _rec(open_row)
            row = self._ensure_next(session, sub, now)
            assert row is not None
            row.due_at = now  # taken early (or late): next week's is one interval from now
            session.flush()
            self._mark_sent(session, sub, row, now, reminder=sub.channel != CHANNEL_WEB)
            return _rec(row)

        return self._run(work)

    def save_progress(self, checkin_id: str, answers: Sequence[Any]) -> None:
        items = clean_answers(answers)
        now = self._clock()

        def work(session: Session) -> None:
            session.execute(
                sa.update(Checkin)
                .where(Checkin.id == checkin_id, Checkin.status.in_(OPEN_STATUSES))
                .values(answers=items, activity_at=now)
            )

        self._run(work)

    def complete(
        self,
        checkin_id: str,
        answers: Sequence[Any],
        on_complete: Optional[
            Callable[[Session, CheckinRecord, List[CheckinRecord], Subscription], None]
        ] = None,
    ) -> Optional[CheckinRecord]:
        """Record a finished check-in (``answered``); None if it is unknown or was already finished.

        ``on_complete(session, record, earlier answered records, subscription)`` runs in the
        same transaction (the care-team notification is written with the answers, or neither).
        """
        items = clean_answers(answers)
        now = self._clock()

        def work(session: Session) -> Optional[CheckinRecord]:
            row = session.get(Checkin, checkin_id)
            if row is None or row.status not in OPEN_STATUSES:
                return None
            row.status = ST_ANSWERED
            row.answers = items
            row.total = total_of(items)
            row.answered_at = now
            row.activity_at = now
            row.next_action_at = None
            row.claim_token = None
            session.flush()
            record = _rec(row)
            if on_complete is not None:
                sub = session.get(CheckinSubscription, row.subscription_id)
                earlier = session.execute(
                    sa.select(Checkin)
                    .where(
                        Checkin.subscription_id == row.subscription_id,
                        Checkin.status == ST_ANSWERED,
                        Checkin.sequence < row.sequence,
                    )
                    .order_by(Checkin.sequence)
                ).scalars()
                on_complete(session, record, [_rec(e) for e in earlier], _sub(sub))
            return record

        return self._run(work)

    def save_note(self, checkin_id: str, note: str) -> bool:
        text = " ".join(str(note).replace("\x00", "").split())[:MAX_NOTE_CHARS]
        if not text:
            return False

        def work(session: Session) -> bool:
            result = session.execute(sa.update(Checkin).where(Checkin.id == checkin_id).values(note=text))
            return bool(result.rowcount)

        return self._run(work)

    def later(self, checkin_id: str) -> Optional[datetime]:
        """ "Later": the one reminder moves to CHECKIN_LATER_SECONDS from now (daytime); None if used."""
        now = self._clock()

        def work(session: Session) -> Optional[datetime]:
            row = session.get(Checkin, checkin_id)
            if row is None or row.status not in (ST_SENT, ST_SENDING):
                return None
            sub = session.get(CheckinSubscription, row.subscription_id)
            when = schedule.reminder_time(
                now, self.config.later_seconds, sub.timezone, self.config.quiet_hours
            )
            nxt = session.execute(
                sa.select(Checkin.due_at).where(
                    Checkin.subscription_id == row.subscription_id, Checkin.status == ST_SCHEDULED
                )
            ).scalar_one_or_none()
            if nxt is not None and when >= nxt:
                return None
            row.status = ST_SENT
            row.next_action_at = when
            row.activity_at = now
            return when

        return self._run(work)

    # --- the worker: claiming due rows ----------------------------------------------------

    def claim_due(self, limit: int, lease_seconds: Optional[float] = None) -> List[Claim]:
        """Take up to ``limit`` due rows (sends, reminders, sends left mid-way) for one attempt each."""
        if limit < 1:
            return []
        lease = self.config.lease_seconds if lease_seconds is None else lease_seconds
        now = self._clock()
        lease_end = now + timedelta(seconds=lease)
        due = (
            sa.select(Checkin.id, Checkin.attempts, Checkin.status)
            .where(
                Checkin.status.in_((ST_SCHEDULED, ST_SENT, ST_SENDING)),
                Checkin.next_action_at <= now,
            )
            .order_by(Checkin.next_action_at)
            .limit(limit)
        )
        # PostgreSQL: the due rows are locked, skipping those another worker holds. SQLite: one
        # writer at a time; each row is taken by a conditional UPDATE that only one worker can
        # match. Either way all in one transaction (one commit per pass, not one per row).
        query = due.with_for_update(skip_locked=True) if self._postgres else due

        def work(session: Session) -> List[Claim]:
            rows = session.execute(query).all()
            taken = [self._take(session, r.id, int(r.attempts), r.status, now, lease_end) for r in rows]
            return [c for c in taken if c is not None]

        return self._run(work)

    def _take(
        self, session: Session, row_id: str, seen: int, status: str, now: datetime, lease_end: datetime
    ) -> Optional[Claim]:
        table = Checkin.__table__
        token = str(uuid.uuid4())
        result = session.execute(
            sa.update(table)
            .where(
                table.c.id == row_id,
                table.c.status == status,
                table.c.attempts == seen,
                table.c.next_action_at <= now,
            )
            .values(attempts=seen + 1, claim_token=token, claimed_by=self.worker_id, next_action_at=lease_end)
        )
        if result.rowcount != 1:
            return None  # another worker took it first
        attempts = CheckinAttempt.__table__
        abandoned = session.execute(
            sa.update(attempts)
            .where(attempts.c.checkin_id == row_id, attempts.c.outcome == OUT_IN_PROGRESS)
            .values(outcome=OUT_ABANDONED, finished_at=now, error=ABANDONED_NOTE)
        )
        row = session.get(Checkin, row_id)
        session.refresh(row)
        sub = session.get(CheckinSubscription, row.subscription_id)
        if status == ST_SENDING:
            # The Rasa server took this send and never reported back (it stopped mid-send):
            # count it as sent, never ask twice; next week is scheduled now.
            logger.warning("checkin %s: a send was left unfinished; counted as sent", row_id)
            self._mark_sent(session, sub, row, row.sent_at or now)
            return None
        action = ACTION_SEND if status == ST_SCHEDULED else ACTION_REMIND
        session.add(
            CheckinAttempt(
                checkin_id=row_id,
                kind=action,
                worker=self.worker_id,
                started_at=now,
                outcome=OUT_IN_PROGRESS,
            )
        )
        return Claim(
            checkin_id=row_id,
            action=action,
            token=token,
            attempt=seen + 1,
            sequence=int(row.sequence),
            due_at=row.due_at,
            subscription=_sub(sub),
            recovered=bool(abandoned.rowcount),
        )

    def _finish_attempt(self, session: Session, checkin_id: str, outcome: str, error: Optional[str]) -> None:
        attempts = CheckinAttempt.__table__
        session.execute(
            sa.update(attempts)
            .where(attempts.c.checkin_id == checkin_id, attempts.c.outcome == OUT_IN_PROGRESS)
            .values(
                outcome=outcome, finished_at=self._clock(), error=(error or None) and error[:MAX_ERROR_CHARS]
            )
        )

    def retry_later(self, claim: Claim, when: datetime, error: str, outcome: str = OUT_FAILED) -> bool:
        """The attempt did not send (the server was unreachable, quiet hours began): due again at ``when``."""

        def work(session: Session) -> bool:
            result = session.execute(
                sa.update(Checkin)
                .where(
                    Checkin.id == claim.checkin_id,
                    Checkin.claim_token == claim.token,
                    Checkin.status.in_((ST_SCHEDULED, ST_SENT)),
                )
                .values(
                    next_action_at=when, claim_token=None, claimed_by=None, last_error=error[:MAX_ERROR_CHARS]
                )
            )
            self._finish_attempt(session, claim.checkin_id, outcome, error)
            return bool(result.rowcount)

        return self._run(work)

    def cancel(self, claim: Claim, reason: str) -> None:
        """The subscription is paused or stopped: this row is not sent (nor reminded)."""

        def work(session: Session) -> None:
            row = session.get(Checkin, claim.checkin_id)
            if row is not None and row.claim_token == claim.token:
                if row.status == ST_SCHEDULED:
                    row.status = ST_CANCELLED
                row.next_action_at = None
                row.claim_token = None
            self._finish_attempt(session, claim.checkin_id, OUT_CANCELLED, reason)

        self._run(work)

    def record_outcome(self, claim: Claim, outcome: str, error: Optional[str] = None) -> None:
        """Close the worker's audit row of this attempt (the Rasa server has already moved the row on)."""
        self._run(lambda session: self._finish_attempt(session, claim.checkin_id, outcome, error))

    def web_due(
        self,
        claim: Claim,
        on_missed: Optional[Callable[[Session, Subscription, List[CheckinRecord]], None]] = None,
    ) -> SendResult:
        """A web-link check-in's time has come: nothing to push; it is open for the person's visit."""

        def work(session: Session) -> SendResult:
            row = session.get(Checkin, claim.checkin_id)
            sub = session.get(CheckinSubscription, row.subscription_id)
            if row.claim_token != claim.token or row.status != ST_SCHEDULED:
                self._finish_attempt(session, claim.checkin_id, OUT_SKIPPED, "stale claim")
                return SendResult(None)
            result = self._mark_sent(session, sub, row, self._clock(), reminder=False)
            self._finish_attempt(session, claim.checkin_id, OUT_SENT, None)
            if on_missed is not None and result.missed:
                on_missed(session, _sub(sub), self._finished(session, sub.id))
            return result

        return self._run(work)

    # --- the Rasa server: taking and finishing a send --------------------------------------

    def begin(self, checkin_id: str, token: str, action: str) -> Optional[CheckinRecord]:
        """Take the send (or the reminder) this claim is for; None when it is not (or no longer) this claim's.

        Atomic: of any number of calls with the same claim, exactly one gets the row.
        """

        def work(session: Session) -> Optional[CheckinRecord]:
            want = ST_SCHEDULED if action == ACTION_SEND else ST_SENT
            then = ST_SENDING if action == ACTION_SEND else ST_REMINDED
            values: Dict[str, Any] = {"status": then}
            if action == ACTION_REMIND:
                values.update(reminded_at=self._clock(), next_action_at=None, claim_token=None)
            result = session.execute(
                sa.update(Checkin)
                .where(Checkin.id == checkin_id, Checkin.claim_token == token, Checkin.status == want)
                .values(**values)
            )
            if result.rowcount != 1:
                return None
            return _rec(session.get(Checkin, checkin_id))

        return self._run(work)

    def finish(
        self,
        checkin_id: str,
        token: str,
        sent: bool,
        error: Optional[str] = None,
        on_missed: Optional[Callable[[Session, Subscription, List[CheckinRecord]], None]] = None,
    ) -> SendResult:
        """After ``begin(..., ACTION_SEND)``: the question went out (``sent``) or could not be
        (the person texted STOP, no number): either way next week's row is created and earlier
        unanswered check-ins become ``missed``; ``on_missed`` runs in the same transaction."""
        now = self._clock()

        def work(session: Session) -> SendResult:
            row = session.get(Checkin, checkin_id)
            if row is None or row.claim_token != token or row.status != ST_SENDING:
                return SendResult(None)
            sub = session.get(CheckinSubscription, row.subscription_id)
            if sent:
                result = self._mark_sent(session, sub, row, now)
            else:
                result = self._mark_sent(session, sub, row, now, reminder=False)
                row.status = ST_NOT_SENT
                row.last_error = (error or "")[:MAX_ERROR_CHARS] or None
            self._finish_attempt(session, checkin_id, OUT_SENT if sent else OUT_NOT_SENT, error)
            if on_missed is not None and result.missed:
                on_missed(session, _sub(sub), self._finished(session, sub.id))
            return result

        return self._run(work)

    def abort(self, checkin_id: str, token: str, error: str, retry_after: float = 60.0) -> bool:
        """After ``begin``: nothing was texted (the turn failed); the row is due again later."""
        now = self._clock()

        def work(session: Session) -> bool:
            result = session.execute(
                sa.update(Checkin)
                .where(Checkin.id == checkin_id, Checkin.claim_token == token, Checkin.status == ST_SENDING)
                .values(
                    status=ST_SCHEDULED,
                    claim_token=None,
                    next_action_at=now + timedelta(seconds=retry_after),
                    last_error=error[:MAX_ERROR_CHARS],
                )
            )
            self._finish_attempt(session, checkin_id, OUT_FAILED, error)
            return bool(result.rowcount)

        return self._run(work)

    def _finished(self, session: Session, subscription_id: int) -> List[CheckinRecord]:
        rows = session.execute(
            sa.select(Checkin)
            .where(
                Checkin.subscription_id == subscription_id,
                Checkin.status.in_((ST_ANSWERED, ST_MISSED)),
            )
            .order_by(Checkin.sequence)
        ).scalars()
        return [_rec(r) for r in rows]

    def _mark_sent(
        self, session: Session, sub: CheckinSubscription, row: Checkin, now: datetime, reminder: bool = True
    ) -> SendResult:
        cfg = self.config
        nxt_due = schedule.next_due(row.due_at, cfg.interval_seconds, sub.timezone, cfg.quiet_hours, now=now)
        while nxt_due <= now:
            nxt_due = schedule.next_due(nxt_due, cfg.interval_seconds, sub.timezone, cfg.quiet_hours)
        remind_at: Optional[datetime] = None
        if reminder:
            remind_at = schedule.reminder_time(now, cfg.reminder_after_seconds, sub.timezone, cfg.quiet_hours)
            if remind_at >= nxt_due:
                remind_at = None
        row.status = ST_SENT
        row.sent_at = now
        row.next_action_at = remind_at
        row.claim_token = None
        row.claimed_by = None
        # Earlier check-ins still open are missed now.
        missed_rows = list(
            session.execute(
                sa.select(Checkin).where(
                    Checkin.subscription_id == sub.id,
                    Checkin.sequence < row.sequence,
                    Checkin.status.in_(OPEN_STATUSES),
                )
            ).scalars()
        )
        for old in missed_rows:
            old.status = ST_MISSED
            old.next_action_at = None
            old.claim_token = None
        nxt: Optional[Checkin] = None
        if sub.status == SUB_ACTIVE:
            nxt = Checkin(
                id=str(uuid.uuid4()),
                subscription_id=sub.id,
                sequence=int(row.sequence) + 1,
                due_at=nxt_due,
                status=ST_SCHEDULED,
                next_action_at=nxt_due,
                attempts=0,
                created_at=now,
            )
            session.add(nxt)
            session.flush()
        return SendResult(_rec(nxt) if nxt is not None else None, [_rec(m) for m in missed_rows])

    # --- web phone confirmation codes -----------------------------------------------------

    def create_code(
        self,
        conversation_id: str,
        sms_sender_id: str,
        code: str,
        secret: str,
        zone: Optional[str],
        ttl: float = 900,
    ) -> None:
        now = self._clock()

        def work(session: Session) -> None:
            session.execute(
                sa.update(CheckinCode)
                .where(CheckinCode.conversation_id == conversation_id, CheckinCode.used_at.is_(None))
                .values(used_at=now)
            )
            session.add(
                CheckinCode(
                    conversation_id=conversation_id,
                    sms_sender_id=sms_sender_id,
                    code_hash=_code_hash(secret, conversation_id, code),
                    timezone=zone,
                    tries=0,
                    created_at=now,
                    expires_at=now + timedelta(seconds=ttl),
                )
            )

        self._run(work)

    def check_code(
        self, conversation_id: str, code: str, secret: str, max_tries: int = 5
    ) -> Optional[Dict[str, Any]]:
        """{"sms_sender_id", "timezone"} when ``code`` is the conversation's live code; counts tries."""
        now = self._clock()
        wanted = _code_hash(secret, conversation_id, code)

        def work(session: Session) -> Optional[Dict[str, Any]]:
            row = session.execute(
                sa.select(CheckinCode)
                .where(CheckinCode.conversation_id == conversation_id, CheckinCode.used_at.is_(None))
                .order_by(CheckinCode.created_at.desc())
                .limit(1)
            ).scalar_one_or_none()
            if row is None or row.expires_at <= now or row.tries >= max_tries:
                return None
            import hmac as _hmac

            if not _hmac.compare_digest(row.code_hash, wanted):
                row.tries = int(row.tries) + 1
                return None
            row.used_at = now
            return {"sms_sender_id": row.sms_sender_id, "timezone": row.timezone}

        return self._run(work)

    def latest_code_sender(self, conversation_id: str) -> Optional[str]:
        """The SMS sender id the conversation's latest code went to (to send a new one)."""

        def work(session: Session) -> Optional[str]:
            return session.execute(
                sa.select(CheckinCode.sms_sender_id)
                .where(CheckinCode.conversation_id == conversation_id)
                .order_by(CheckinCode.created_at.desc(), CheckinCode.id.desc())
                .limit(1)
            ).scalar_one_or_none()

        return self._run(work)

    def has_live_code(self, conversation_id: str) -> bool:
        now = self._clock()

        def work(session: Session) -> bool:
            row = session.execute(
                sa.select(CheckinCode.id).where(
                    CheckinCode.conversation_id == conversation_id,
                    CheckinCode.used_at.is_(None),
                    CheckinCode.expires_at > now,
                )
            ).first()
            return row is not None

        return self._run(work)

    # --- housekeeping ---------------------------------------------------------------------

    def delete_conversation(self, conversation_id: str) -> int:
        """Remove a person's check-ins (delete my data): every row of their subscription."""

        def work(session: Session) -> int:
            sub = session.execute(
                sa.select(CheckinSubscription).where(CheckinSubscription.conversation_id == conversation_id)
            ).scalar_one_or_none()
            removed = 0
            if sub is not None:
                ids = [
                    r
                    for (r,) in session.execute(
                        sa.select(Checkin.id).where(Checkin.subscription_id == sub.id)
                    )
                ]
                if ids:
                    removed += (
                        session.execute(
                            sa.delete(CheckinAttempt).where(CheckinAttempt.checkin_id.in_(ids))
                        ).rowcount
                        or 0
                    )
                    removed += session.execute(sa.delete(Checkin).where(Checkin.id.in_(ids))).rowcount or 0
                session.delete(sub)
                removed += 1
            removed += (
                session.execute(
                    sa.delete(CheckinCode).where(CheckinCode.conversation_id == conversation_id)
                ).rowcount
                or 0
            )
            return removed

        return self._run(work)

    def attempts(self, checkin_id: str) -> List[Dict[str, Any]]:
        def work(session: Session) -> List[Dict[str, Any]]:
            rows = session.execute(
                sa.select(CheckinAttempt)
                .where(CheckinAttempt.checkin_id == checkin_id)
                .order_by(CheckinAttempt.id)
            ).scalars()
            return [
                {
                    "kind": r.kind,
                    "worker": r.worker,
                    "outcome": r.outcome,
                    "error": r.error,
                    "started_at": r.started_at,
                }
                for r in rows
            ]

        return self._run(work)


def _code_hash(secret: str, conversation_id: str, code: str) -> str:
    import hmac as _hmac

    digits = "".join(ch for ch in str(code) if ch.isdigit())
    return _hmac.new(
        secret.encode("utf-8"), f"{conversation_id}:{digits}".encode(), hashlib.sha256
    ).hexdigest()


__all__ = [
    "ACTION_REMIND",
    "ACTION_SEND",
    "CheckinRecord",
    "CheckinStore",
    "Claim",
    "SendResult",
    "Subscription",
    "clean_answers",
    "total_of",
]
