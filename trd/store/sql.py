"""The SQL implementation of :class:`trd.store.repository.Repository`.

Each method runs in one transaction. Writes are single statements (an insert,
an update, or an atomic ``INSERT .. ON CONFLICT DO UPDATE`` upsert), so two
processes saving the same conversation never race into a duplicate-key error
and a SQLite writer only ever waits on the busy timeout. Transient failures
(a locked SQLite file, a dropped PostgreSQL connection) are retried a few times
because a crisis record must not be lost.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import datetime
from typing import Any, Callable, Dict, List, TypeVar, Union

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from trd.store.db import make_engine, safe_url, session_factory
from trd.store.escalation_models import Escalation
from trd.store.models import CrisisEvent, IntakeRow, SafetyPlanRow
from trd.store.repository import (
    FOLLOW_UP_KEYS,
    LINK_ACTIVE,
    CrisisRecord,
    EscalationRecord,
    EscalationRequest,
    SafetyPlan,
    SummaryLink,
    check_aware,
    check_conversation_id,
    check_escalation,
    check_label,
    check_message_id,
    check_sections,
    check_summary_link,
    clean_text,
    summary_token_hash,
    to_json_document,
    utcnow,
)
from trd.store.summary_models import SummaryLinkRow

logger = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_DELAYS = (0.1, 0.5, 1.5)


def _is_transient(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
        return any(
            marker in text
            for marker in ("database is locked", "database table is locked", "server closed the connection",
                           "could not connect", "connection refused", "terminating connection")
        )
    return False


def is_transient_error(exc: BaseException) -> bool:
    """A database error worth retrying (a locked SQLite file, a dropped connection)."""
    return isinstance(exc, DBAPIError) and _is_transient(exc)


def run_transaction(
    sessions: Callable[[], Session],
    work: Callable[[Session], T],
    label: str = "",
    log: logging.Logger = logger,
) -> T:
    """Run ``work`` in one transaction, retrying transient database errors (``RETRY_DELAYS``).

    Every store's way to the database (the repository, the escalation outbox, the check-ins):
    ``label`` prefixes the warning of a retry (``"outbox: "``), ``log`` is the caller's logger.
    """
    attempt = 0
    while True:
        try:
            with sessions() as session, session.begin():
                return work(session)
        except DBAPIError as exc:
            if attempt >= len(RETRY_DELAYS) or not _is_transient(exc):
                raise
            delay = RETRY_DELAYS[attempt]
            attempt += 1
            log.warning(
                "%sdatabase error (attempt %d, retrying in %.1fs): %s", label, attempt, delay, exc.orig or exc
            )
            time.sleep(delay)


def default_worker_id() -> str:
    """Who holds a claimed row (a lease): host, process and a random suffix."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def escalation_record(row: Escalation) -> EscalationRecord:
    return EscalationRecord(
        id=row.id,
        crisis_id=int(row.crisis_id) if row.crisis_id is not None else None,  # None: a follow-up (#12)
        conversation_id=row.conversation_id,
        channel=row.channel,
        destination=row.destination,
        payload=dict(row.payload or {}),
        status=row.status,
        attempts=int(row.attempts),
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        kind=row.kind or "page",
        case_id=row.case_id,
    )


def _summary_link(row: SummaryLinkRow) -> SummaryLink:
    return SummaryLink(
        id=int(row.id),
        conversation_id=row.conversation_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _crisis_record(row: CrisisEvent) -> CrisisRecord:
    return CrisisRecord(
        id=int(row.id),
        conversation_id=row.conversation_id,
        channel=row.channel,
        category=row.category,
        message_excerpt=row.message_excerpt,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
    )


class SqlRepository:
    """Repository on SQLite or PostgreSQL; the schema comes from ``python -m trd.store.migrate``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)

    @classmethod
    def from_url(cls, url: Union[str, URL]) -> SqlRepository:
        return cls(make_engine(url))

    def __repr__(self) -> str:
        return f"SqlRepository({safe_url(self.engine.url)})"

    def dispose(self) -> None:
        self.engine.dispose()

    # -- plumbing -----------------------------------------------------------------
    def _transaction(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction, retrying transient database errors."""
        return run_transaction(self._sessions, work)

    def _upsert(
        self,
        session: Session,
        table: sa.Table,
        conversation_id: str,
        values: Dict[str, Any],
        update: List[str],
    ) -> None:
        """Insert the conversation's row, or update ``update`` columns if it exists (atomically)."""
        dialect = session.get_bind().dialect.name
        row = {"conversation_id": conversation_id, **values}
        if dialect in ("postgresql", "sqlite"):
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as pg_insert

                stmt: Any = pg_insert(table)
            else:
                from sqlalchemy.dialects.sqlite import insert as sqlite_insert

                stmt = sqlite_insert(table)
            stmt = stmt.values(**row)
            stmt = stmt.on_conflict_do_update(
                index_elements=[table.c.conversation_id],
                set_={name: stmt.excluded[name] for name in update},
            )
            session.execute(stmt)
            return
        # Other backends: update, else insert; a concurrent insert turns into an update.
        changes = {name: values[name] for name in update}
        result = session.execute(
            sa.update(table).where(table.c.conversation_id == conversation_id).values(**changes)
        )
        if result.rowcount:
            return
        try:
            with session.begin_nested():
                session.execute(sa.insert(table).values(**row))
        except IntegrityError:
            session.execute(
                sa.update(table).where(table.c.conversation_id == conversation_id).values(**changes)
            )

    # -- crises -------------------------------------------------------------------
    def record_crisis(
        self,
        conversation_id: str,
        channel: str,
        category: str,
        message_excerpt: str,
        escalation: EscalationRequest | None = None,
        message_id: str | None = None,
    ) -> CrisisRecord:
        check_conversation_id(conversation_id)
        check_label("channel", channel)
        check_label("category", category)
        if not isinstance(message_excerpt, str):
            raise ValueError("message_excerpt must be a string")
        message_id = check_message_id(message_id)
        docs = check_escalation(escalation) if escalation is not None else {}
        excerpt = clean_text(message_excerpt)
        created_at = utcnow()

        def recorded(session: Session) -> CrisisRecord | None:
            if message_id is None:
                return None
            found = session.execute(
                sa.select(CrisisEvent).where(
                    CrisisEvent.conversation_id == conversation_id, CrisisEvent.message_id == message_id
                )
            ).scalar_one_or_none()
            return _crisis_record(found) if found is not None else None

        def work(session: Session) -> CrisisRecord:
            earlier = recorded(session)
            if earlier is not None:  # this message's turn ran again (a restart, a timed-out action)
                return earlier
            row = CrisisEvent(
                conversation_id=conversation_id,
                channel=channel,
                category=category,
                message_excerpt=excerpt,
                created_at=created_at,
                message_id=message_id,
            )
            session.add(row)
            session.flush()
            if docs:
                # One open escalation per conversation (#10): a page, or an update of the open
                # case, and the global rate alarm (trd.escalation.cases).
                from trd.escalation.cases import write_sql

                assert escalation is not None
                write_sql(
                    session,
                    conversation_id=conversation_id,
                    channel=escalation.channel,
                    docs=docs,
                    crisis_id=int(row.id),
                    now=created_at,
                    policy=escalation.flood_policy(),
                    journal=escalation.journal,
                )
            session.flush()
            return _crisis_record(row)

        try:
            return self._transaction(work)
        except IntegrityError:
            # Two processes recorded this message's crisis at once: the other one's stands.
            earlier = self._transaction(recorded)
            if earlier is None:
                raise
            return earlier

    def escalations(self, conversation_id: str) -> List[EscalationRecord]:
        def work(session: Session) -> List[EscalationRecord]:
            rows = session.execute(
                sa.select(Escalation)
                .where(Escalation.conversation_id == conversation_id)
                .order_by(Escalation.crisis_id, Escalation.destination)
            ).scalars()
            return [escalation_record(row) for row in rows]

        return self._transaction(work)

    def resolve_open_crises(self, conversation_id: str) -> int:
        table = CrisisEvent.__table__
        now = utcnow()

        def work(session: Session) -> int:
            result = session.execute(
                sa.update(table)
                .where(table.c.conversation_id == conversation_id, table.c.resolved_at.is_(None))
                .values(resolved_at=now)
            )
            from trd.escalation.cases import CLOSED_RESOLVED, close_sql

            close_sql(session, conversation_id, now, CLOSED_RESOLVED)  # the next crisis pages again
            return int(result.rowcount or 0)

        return self._transaction(work)

    def crises(self, conversation_id: str) -> List[CrisisRecord]:
        def work(session: Session) -> List[CrisisRecord]:
            rows = session.execute(
                sa.select(CrisisEvent)
                .where(CrisisEvent.conversation_id == conversation_id)
                .order_by(CrisisEvent.id)
            ).scalars()
            return [_crisis_record(row) for row in rows]

        return self._transaction(work)

    # -- safety plans ---------------------------------------------------------------
    def save_safety_plan(self, conversation_id: str, sections: Dict[str, str | None]) -> SafetyPlan:
        check_conversation_id(conversation_id)
        doc = check_sections(sections)
        now = utcnow()

        def work(session: Session) -> SafetyPlan:
            self._upsert(
                session,
                SafetyPlanRow.__table__,
                conversation_id,
                {"sections": doc, "updated_at": now},
                update=["sections", "updated_at"],
            )
            return SafetyPlan(conversation_id, dict(doc), now)

        return self._transaction(work)

    def safety_plan(self, conversation_id: str) -> SafetyPlan | None:
        def work(session: Session) -> SafetyPlan | None:
            row = session.execute(
                sa.select(SafetyPlanRow).where(SafetyPlanRow.conversation_id == conversation_id)
            ).scalar_one_or_none()
            if row is None:
                return None
            return SafetyPlan(row.conversation_id, dict(row.sections or {}), row.updated_at)

        return self._transaction(work)

    # -- intakes ------------------------------------------------------------------
    def save_intake(self, conversation_id: str, record: Dict[str, Any]) -> None:
        check_conversation_id(conversation_id)
        doc = to_json_document(record, "intake record")
        now = utcnow()

        def work(session: Session) -> None:
            if any(key not in doc for key in FOLLOW_UP_KEYS):
                # The check-ins own these keys (#12): an intake save never drops them.
                query = sa.select(IntakeRow.record).where(IntakeRow.conversation_id == conversation_id)
                if session.get_bind().dialect.name == "postgresql":
                    query = query.with_for_update()
                stored = session.execute(query).scalar_one_or_none()
                for key in FOLLOW_UP_KEYS:
                    if key not in doc and isinstance(stored, dict) and key in stored:
                        doc[key] = stored[key]
            self._upsert(
                session,
                IntakeRow.__table__,
                conversation_id,
                {"record": doc, "created_at": now, "updated_at": now},
                update=["record", "updated_at"],
            )

        self._transaction(work)

    def intake(self, conversation_id: str) -> Dict[str, Any] | None:
        def work(session: Session) -> Dict[str, Any] | None:
            record = session.execute(
                sa.select(IntakeRow.record).where(IntakeRow.conversation_id == conversation_id)
            ).scalar_one_or_none()
            return dict(record) if record is not None else None

        return self._transaction(work)

    # -- summary links ------------------------------------------------------------------
    def create_summary_link(
        self, conversation_id: str, token: str, expires_at: datetime, now: datetime | None = None
    ) -> SummaryLink:
        token_hash, created, expires = check_summary_link(conversation_id, token, expires_at, now)

        def work(session: Session) -> SummaryLink:
            row = SummaryLinkRow(
                conversation_id=conversation_id,
                token_hash=token_hash,
                created_at=created,
                expires_at=expires,
            )
            session.add(row)
            session.flush()
            return _summary_link(row)

        try:
            return self._transaction(work)
        except IntegrityError as exc:
            raise ValueError("this summary token is already in use") from exc

    def summary_link(self, token: str) -> SummaryLink | None:
        token_hash = summary_token_hash(token)
        if token_hash is None:
            return None

        def work(session: Session) -> SummaryLink | None:
            row = session.execute(
                sa.select(SummaryLinkRow).where(SummaryLinkRow.token_hash == token_hash)
            ).scalar_one_or_none()
            return _summary_link(row) if row is not None else None

        return self._transaction(work)

    def resolve_summary_link(self, token: str, now: datetime | None = None) -> str | None:
        when = check_aware("now", now) if now is not None else utcnow()
        link = self.summary_link(token)
        if link is None or link.state(when) != LINK_ACTIVE:
            return None
        return link.conversation_id

    def revoke_summary_links(self, conversation_id: str, now: datetime | None = None) -> int:
        when = check_aware("now", now) if now is not None else utcnow()
        table = SummaryLinkRow.__table__

        def work(session: Session) -> int:
            result = session.execute(
                sa.update(table)
                .where(
                    table.c.conversation_id == conversation_id,
                    table.c.revoked_at.is_(None),
                    table.c.expires_at > when,
                )
                .values(revoked_at=when)
            )
            return int(result.rowcount or 0)

        return self._transaction(work)
