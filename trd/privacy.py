"""Deleting a person's data ("delete my data", and the retention purge) (#10).

:func:`delete_conversation` removes, in one transaction, every row that belongs to a
conversation from every table of the database the servers share:

- Rasa's tracker store (``events``) and its snapshots (``rasa_tracker_snapshots``);
- every ``trd_*`` table with a column naming the conversation (``conversation_id``, or the
  SMS sender id as ``sender_hash`` / ``sms_sender_id`` / ``sender_id``): the intake record,
  the safety plan, crises and their text, summary links, escalation cases, the SMS inbox
  and outbox, check-ins... and, through their foreign keys, the rows that hang off them
  (delivery attempts, scheduled check-ins). Found from the models' metadata, so a table
  added later is covered without a change here (a test checks every table is).

Two exceptions, both for the person's safety or their stated wishes:

- an **escalation not yet delivered** (and the crisis row it points to) is kept until the
  care team has it: a person at risk is not left without help because they also asked to
  be forgotten. The crisis's text is blanked at once; :func:`finish_deletions` (run by the
  retention job) removes the rows once they are delivered;
- an **SMS opt-out** (STOP) is kept as the keyed hash of the number with no number: the
  service must never text someone who said STOP, even after deleting everything else.

What stays is one ``trd_deletions`` row: when, the channel, the reason, how many rows went
per table, and the SHA-256 of the conversation id (no other identifier).

:func:`purge_idle` applies ``RETENTION_DAYS``: conversations whose latest event is older are
deleted the same way (reason ``retention``). Synchronous (SQLAlchemy); callers in async code
use ``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from trd.store.models import all_metadata

logger = logging.getLogger(__name__)

REASON_REQUEST = "request"
REASON_RETENTION = "retention"
# Columns that name a conversation (the SMS channel's tables name it by the sender id).
SUBJECT_COLUMNS = ("conversation_id", "sender_hash", "sms_sender_id", "sender_id")
NOT_DELETED = frozenset({"trd_deletions", "trd_alembic_version", "trd_web_sessions"})
# Rasa's tables (not in our metadata): the events and the tracker store's snapshots.
RASA_TABLES = ("events", "rasa_tracker_snapshots")
KEPT_UNTIL_DELIVERED = ("page", "update", "alarm")  # crisis escalations, never follow-ups


def subject_hash(conversation_id: str) -> str:
    """The one-way hash a deletion is audited under."""
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()


def retention_days(env: Mapping[str, str] = os.environ) -> Optional[int]:
    """``RETENTION_DAYS`` (whole days, at least 1); None when unset or 0 (keep until deleted)."""
    text = env.get("RETENTION_DAYS", "").strip()
    if not text or text == "0":
        return None
    if not text.isdigit():
        raise ValueError(f"RETENTION_DAYS must be a whole number of days (0 or empty: off), not {text!r}")
    return int(text)


def _subject_filter(table: sa.Table, conversation_id: str) -> Optional[Any]:
    clauses = [table.c[name] == conversation_id for name in SUBJECT_COLUMNS if name in table.c]
    return sa.or_(*clauses) if clauses else None


def _selectors(conversation_id: str) -> Dict[str, Any]:
    """For each of our tables, the WHERE clause of the conversation's rows (parents first)."""
    metadata = all_metadata()
    selectors: Dict[str, Any] = {}
    for table in metadata.sorted_tables:
        if table.name in NOT_DELETED:
            continue
        own = _subject_filter(table, conversation_id)
        if table.name == "trd_escalations":
            # Crisis escalations not yet delivered stay until the care team has them.
            own = sa.and_(
                own, sa.not_(sa.and_(table.c.status == "pending", table.c.kind.in_(KEPT_UNTIL_DELIVERED)))
            )
        elif table.name == "trd_crisis_events":
            escalations = metadata.tables["trd_escalations"]
            kept = sa.select(escalations.c.crisis_id).where(
                escalations.c.status == "pending",
                escalations.c.kind.in_(KEPT_UNTIL_DELIVERED),
                escalations.c.crisis_id.isnot(None),
            )
            own = sa.and_(own, table.c.id.not_in(kept))
        through_parents = []
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent.name in selectors and parent.name != table.name:
                through_parents.append(fk.parent.in_(sa.select(fk.column).where(selectors[parent.name])))
        clauses = [c for c in [own, *through_parents] if c is not None]
        if clauses:
            selectors[table.name] = sa.or_(*clauses) if len(clauses) > 1 else clauses[0]
    return selectors


def _rasa_tables(conn: Connection) -> List[sa.Table]:
    names = set(sa.inspect(conn).get_table_names())
    return [sa.table(name, sa.column("sender_id")) for name in RASA_TABLES if name in names]


def delete_conversation(
    engine: Engine,
    conversation_id: str,
    channel: str,
    reason: str = REASON_REQUEST,
    now: Optional[datetime] = None,
) -> Dict[str, int]:
    """Delete everything of one conversation (see the module docstring); returns rows per table."""
    if not isinstance(conversation_id, str) or not conversation_id.strip():
        raise ValueError("conversation_id must be a non-empty string")
    when = now or datetime.now(timezone.utc)
    metadata = all_metadata()
    removed: Dict[str, int] = {}
    with engine.begin() as conn:
        selectors = _selectors(conversation_id)
        contacts = metadata.tables.get("trd_sms_contacts")
        if contacts is not None:
            # An opt-out outlives the deletion (carriers: no text after STOP); the number does not.
            kept = conn.execute(
                sa.update(contacts)
                .where(contacts.c.sender_hash == conversation_id, contacts.c.opted_out.is_(True))
                .values(phone_encrypted="", last_buttons=None, updated_at=when, last_seen_at=when)
            ).rowcount
            selectors["trd_sms_contacts"] = sa.and_(
                contacts.c.sender_hash == conversation_id, contacts.c.opted_out.is_not(True)
            )
            if kept:
                removed["trd_sms_contacts.number"] = int(kept)
        crises = metadata.tables.get("trd_crisis_events")
        if crises is not None:  # the text of a crisis whose escalation is still on its way
            blanked = conn.execute(
                sa.update(crises)
                .where(crises.c.conversation_id == conversation_id, crises.c.message_excerpt != "")
                .values(message_excerpt="")
            ).rowcount
            if blanked:
                removed["trd_crisis_events.text"] = int(blanked)
        for table in reversed(metadata.sorted_tables):
            where = selectors.get(table.name)
            if where is None:
                continue
            count = conn.execute(sa.delete(table).where(where)).rowcount
            if count:
                removed[table.name] = removed.get(table.name, 0) + int(count)
        for table in _rasa_tables(conn):
            count = conn.execute(sa.delete(table).where(table.c.sender_id == conversation_id)).rowcount
            if count:
                removed[table.name] = int(count)
        deletions = metadata.tables["trd_deletions"]
        conn.execute(
            sa.insert(deletions).values(
                deleted_at=when,
                channel=(channel or "unknown")[:64],
                reason=reason[:16],
                subject_hash=subject_hash(conversation_id),
                rows_removed=removed,
            )
        )
    logger.info("deleted a conversation's data (%s, %s): %d rows", reason, channel, sum(removed.values()))
    return removed


def finish_deletions(engine: Engine) -> int:
    """Remove what a deletion had to keep until delivered: escalations delivered since, the
    crisis rows behind them, and their attempts. Returns how many conversations were finished."""
    metadata = all_metadata()
    escalations = metadata.tables["trd_escalations"]
    deletions = metadata.tables["trd_deletions"]
    with engine.connect() as conn:
        conversations = (
            conn.execute(
                sa.select(sa.distinct(escalations.c.conversation_id)).where(escalations.c.status != "pending")
            )
            .scalars()
            .all()
        )
        deleted = set(conn.execute(sa.select(deletions.c.subject_hash)).scalars().all())
    finished = 0
    for conversation_id in conversations:
        if subject_hash(conversation_id) not in deleted:
            continue
        with engine.begin() as conn:
            waiting = conn.execute(
                sa.select(sa.func.count())
                .select_from(escalations)
                .where(escalations.c.conversation_id == conversation_id, escalations.c.status == "pending")
            ).scalar_one()
            if waiting:
                continue
        delete_conversation(engine, conversation_id, "unknown", reason="finished")
        finished += 1
    return finished


def idle_conversations(engine: Engine, older_than: datetime, limit: int = 500) -> List[str]:
    """Conversations whose latest Rasa event is older than ``older_than`` (the retention purge)."""
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        if "events" not in names:
            return []
        events = sa.table("events", sa.column("sender_id"), sa.column("timestamp"))
        rows = conn.execute(
            sa.select(events.c.sender_id)
            .group_by(events.c.sender_id)
            .having(sa.func.max(events.c.timestamp) < older_than.timestamp())
            .limit(limit)
        ).scalars()
        return [str(r) for r in rows]


def purge_idle(engine: Engine, days: int, now: Optional[datetime] = None) -> int:
    """Delete every conversation idle for more than ``days`` days; returns how many."""
    when = now or datetime.now(timezone.utc)
    count = 0
    for conversation_id in idle_conversations(engine, when - timedelta(days=days)):
        channel = "sms" if conversation_id.startswith("sms-") else conversation_id.split("-", 1)[0]
        delete_conversation(engine, conversation_id, channel, reason=REASON_RETENTION, now=when)
        count += 1
    if count:
        logger.info("retention: %d conversation(s) idle for more than %d days deleted", count, days)
    return count


def purge_sessions(engine: Engine, idle_seconds: float, now: Optional[datetime] = None) -> int:
    """Drop web chat session rows unused for longer than a day past their idle lifetime."""
    from trd.store.web_sessions import SqlSessionRegistry

    when = now or datetime.now(timezone.utc)
    return SqlSessionRegistry(lambda: engine).purge(
        when - timedelta(seconds=idle_seconds) - timedelta(days=1)
    )


def run_maintenance(engine: Engine, env: Mapping[str, str] = os.environ) -> Dict[str, int]:
    """One round of the periodic privacy job: retention, finished deletions, old sessions."""
    started = time.monotonic()
    done: Dict[str, int] = {}
    days = retention_days(env)
    if days is not None:
        done["retention"] = purge_idle(engine, days)
    done["finished"] = finish_deletions(engine)
    ttl = float(env.get("WEBCHAT_SESSION_TTL", "") or 7200)
    done["sessions"] = purge_sessions(engine, ttl)
    logger.debug("privacy maintenance took %.2fs: %s", time.monotonic() - started, done)
    return done
