"""One open escalation per conversation, bounded updates, and a global rate alarm (#10).

Without this, every risky message made a new escalation and a new page: one person in
distress typing ten messages (or a script) paged the on-call phone ten times. Now:

- A conversation's first crisis opens a **case** (``trd_escalation_cases``) and writes the
  **page**: one outbox row per destination, as before (``kind = page``).
- Later crises of the conversation, while the case is open, are still recorded one by one
  (the clinician's record keeps every crisis), and **add to the case**: their last messages
  go into one pending **update** row (``kind = update``). The update is due no sooner than
  ``ESCALATION_UPDATE_MIN_SECONDS`` (default 300) after the page or the previous update, so
  the care team hears at most one update per interval, however many messages came; while
  it waits, later messages are appended to it. Updates go to the webhook (the care team's
  system); the on-call SMS gets them only when it is the only destination.
- A case **closes** when the person says they are safe (``resolved``) or when no crisis came
  for ``ESCALATION_CLOSE_AFTER_SECONDS`` (default 7200, ``idle``); a crisis after that opens a
  new case and a new page.
- **Rate alarm**: when more than ``ESCALATION_ALARM_PER_MINUTE`` escalations (cases opened,
  default 20, all conversations together) were opened in the last minute, the care team gets one alarm
  (``kind = alarm``, every destination) per ``ESCALATION_ALARM_WINDOW_SECONDS`` (default 900),
  and the action server logs it at ERROR. Every conversation still gets its own page: the
  alarm says something unusual is happening (a script, an attack, a bug), it replaces nothing.

The decisions are pure functions here; ``trd.store.sql`` and the in-memory repository apply
them inside the crisis's own transaction (:func:`write_sql`).
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

UPDATE_TYPE = "crisis_escalation_update"
ALARM_TYPE = "escalation_rate_alarm"
MAX_UPDATE_MESSAGES = 20
CLOSED_RESOLVED = "resolved"
CLOSED_IDLE = "idle"
CLOSED_DELETED = "deleted"


@dataclass(frozen=True)
class FloodPolicy:
    """The flood settings (see the module docstring)."""

    update_min_seconds: float = 300.0
    close_after_seconds: float = 7200.0
    alarm_per_minute: int = 20
    alarm_window_seconds: float = 900.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> FloodPolicy:
        """The settings; a malformed one is logged and its default used (an escalation is
        never dropped over a typo: the worker and the README name the settings)."""
        values: Dict[str, Any] = {}
        for name, field_name, kind in (
            ("ESCALATION_UPDATE_MIN_SECONDS", "update_min_seconds", float),
            ("ESCALATION_CLOSE_AFTER_SECONDS", "close_after_seconds", float),
            ("ESCALATION_ALARM_PER_MINUTE", "alarm_per_minute", int),
            ("ESCALATION_ALARM_WINDOW_SECONDS", "alarm_window_seconds", float),
        ):
            text = env.get(name, "").strip()
            if not text:
                continue
            try:
                value = kind(text)
                if value < 0 or value != value:  # negative or NaN
                    raise ValueError(text)
            except ValueError:
                logger.error("%s must be a non-negative number, not %r; using the default", name, text)
                continue
            values[field_name] = value
        return cls(**values)


@dataclass(frozen=True)
class CaseState:
    id: str
    opened_at: datetime
    last_crisis_at: datetime
    crisis_count: int
    last_update_at: Optional[datetime]
    closed_at: Optional[datetime] = None


def is_open(case: Optional[CaseState], now: datetime, policy: FloodPolicy) -> bool:
    return (
        case is not None
        and case.closed_at is None
        and now - case.last_crisis_at < timedelta(seconds=policy.close_after_seconds)
    )


def update_due_at(case: CaseState, now: datetime, policy: FloodPolicy) -> datetime:
    """When the next update may go: at least the interval after the page or the last update."""
    base = case.last_update_at or case.opened_at
    return max(now, base + timedelta(seconds=policy.update_min_seconds))


def update_destinations(destinations: List[str]) -> List[str]:
    """Updates go to the webhook; to the on-call SMS only when it is the only destination."""
    return ["webhook"] if "webhook" in destinations else list(destinations)


def update_payload(case_id: str, doc: Mapping[str, Any], crisis_count: int) -> Dict[str, Any]:
    """An update's payload from the latest crisis's page payload (``doc``)."""
    payload = {k: v for k, v in doc.items() if k not in ("type", "id", "crisis_id")}
    payload["type"] = UPDATE_TYPE
    payload["case_id"] = case_id
    payload["crisis_count"] = crisis_count
    payload["last_messages"] = list(doc.get("last_messages") or [])[-MAX_UPDATE_MESSAGES:]
    return payload


def merge_update(pending: Mapping[str, Any], doc: Mapping[str, Any], crisis_count: int) -> Dict[str, Any]:
    """A pending update with a later crisis added: its new messages appended, the latest facts."""
    merged = dict(pending)
    for key in ("risk_category", "time", "contact"):
        if key in doc:
            merged[key] = doc[key]
    seen = {(m.get("from"), m.get("text"), m.get("time")) for m in merged.get("last_messages") or []}
    messages = list(merged.get("last_messages") or [])
    for m in doc.get("last_messages") or []:
        said = (m.get("from"), m.get("text"), m.get("time"))
        if said not in seen:
            seen.add(said)
            messages.append(m)
    merged["last_messages"] = messages[-MAX_UPDATE_MESSAGES:]
    merged["crisis_count"] = crisis_count
    return merged


def alarm_payload(count: int, policy: FloodPolicy, now: datetime) -> Dict[str, Any]:
    from trd.escalation.payload import iso_utc

    return {
        "type": ALARM_TYPE,
        "version": 1,
        "time": iso_utc(now),
        "escalations_last_minute": count,
        "limit_per_minute": policy.alarm_per_minute,
        "window_seconds": policy.alarm_window_seconds,
        "note": (
            "More crisis escalations than usual in the last minute, across all conversations. Each "
            "conversation still gets its own alert; check for a script or an attack, or a surge."
        ),
    }


# --- applying it in the crisis's transaction (SQL) ------------------------------------------------


def new_id() -> str:
    return str(uuid.uuid4())


def write_sql(
    session: Session,
    *,
    conversation_id: str,
    channel: str,
    docs: Mapping[str, Dict[str, Any]],
    crisis_id: int,
    now: datetime,
    policy: FloodPolicy,
    journal: Optional[Mapping[str, Any]] = None,
) -> Tuple[str, ...]:
    """Write this crisis's escalation (page, update or nothing new) and any rate alarm.

    Runs inside the transaction that records the crisis; returns the kinds written.
    ``journal``: the crisis comes from the escalation journal (see
    ``EscalationRequest.journal``): its rows keep their ids and what was delivered.
    """
    from trd.store.escalation_models import (
        KIND_ALARM,
        KIND_PAGE,
        KIND_UPDATE,
        STATUS_DELIVERED,
        STATUS_PENDING,
        Escalation,
        EscalationCase,
    )

    written: List[str] = []
    cases = EscalationCase.__table__
    row = session.execute(
        sa.select(cases)
        .where(cases.c.conversation_id == conversation_id, cases.c.closed_at.is_(None))
        .order_by(cases.c.opened_at.desc())
        .limit(1)
    ).first()
    case = (
        CaseState(row.id, row.opened_at, row.last_crisis_at, int(row.crisis_count), row.last_update_at)
        if row is not None
        else None
    )

    def add_row(
        destination: str,
        kind: str,
        payload: Dict[str, Any],
        due: datetime,
        case_id: Optional[str],
        row_id: Optional[str] = None,
        delivered_at: Optional[datetime] = None,
    ) -> None:
        row_id = row_id or new_id()
        session.add(
            Escalation(
                id=row_id,
                crisis_id=crisis_id,
                conversation_id=conversation_id,
                channel=channel,
                destination=destination,
                payload={**payload, "id": row_id, "crisis_id": int(crisis_id)},
                status=STATUS_PENDING if delivered_at is None else STATUS_DELIVERED,
                attempts=0 if delivered_at is None else 1,
                next_attempt_at=due,
                created_at=now,
                delivered_at=delivered_at,
                kind=kind,
                case_id=case_id,
            )
        )

    def open_case() -> str:
        """A new case of this conversation, opened by this crisis (its first page)."""
        case_id = new_id()
        session.execute(
            sa.insert(cases).values(
                id=case_id,
                conversation_id=conversation_id,
                channel=channel,
                opened_at=now,
                last_crisis_at=now,
                crisis_count=1,
                last_update_at=None,
            )
        )
        return case_id

    def close_idle_then_open() -> str:
        """This crisis came after the open case's quiet spell: that case is over, a new one opens."""
        if case is not None:
            session.execute(
                sa.update(cases).where(cases.c.id == case.id).values(closed_at=now, close_reason=CLOSED_IDLE)
            )
        return open_case()

    if journal is not None:
        # From the journal: a page (with the ids it was delivered under) or, for a conversation's
        # later crises spooled while the database was down, the crisis record alone.
        if not journal.get("deliver"):
            return ()
        if is_open(case, now, policy):
            assert case is not None
            case_id = case.id
        else:
            case_id = close_idle_then_open()
        delivered = journal.get("delivered") or {}
        for destination, doc in docs.items():
            when = delivered.get(destination)
            add_row(
                destination,
                KIND_PAGE,
                {**doc, "case_id": case_id},
                now,
                case_id,
                row_id=str(doc.get("id") or "") or None,
                delivered_at=datetime.fromisoformat(when) if when else None,
            )
        return (KIND_PAGE,)

    if not is_open(case, now, policy):
        case_id = close_idle_then_open()
        for destination, doc in docs.items():
            add_row(destination, KIND_PAGE, {**doc, "case_id": case_id}, now, case_id)
        written.append(KIND_PAGE)
    else:
        assert case is not None
        count = case.crisis_count + 1
        table = Escalation.__table__
        targets = update_destinations(list(docs))
        appended = False
        for destination in targets:
            doc = docs[destination]
            pending = session.execute(
                sa.select(table.c.id, table.c.payload)
                .where(
                    table.c.case_id == case.id,
                    table.c.kind == KIND_UPDATE,
                    table.c.destination == destination,
                    table.c.status == STATUS_PENDING,
                    table.c.attempts == 0,
                    table.c.claim_token.is_(None),
                )
                .limit(1)
            ).first()
            if pending is not None:
                result = session.execute(
                    sa.update(table)
                    .where(table.c.id == pending.id, table.c.attempts == 0, table.c.claim_token.is_(None))
                    .values(payload=merge_update(dict(pending.payload or {}), doc, count))
                )
                if result.rowcount == 1:
                    appended = True
                    continue
            due = update_due_at(case, now, policy)
            add_row(destination, KIND_UPDATE, update_payload(case.id, doc, count), due, case.id)
            session.execute(sa.update(cases).where(cases.c.id == case.id).values(last_update_at=due))
        session.execute(
            sa.update(cases).where(cases.c.id == case.id).values(last_crisis_at=now, crisis_count=count)
        )
        written.append(KIND_UPDATE if not appended else "appended")

    # The rate alarm, once per window: escalations (cases opened) per minute, all conversations.
    if policy.alarm_per_minute > 0 and KIND_PAGE in written:
        recent = session.execute(
            sa.select(sa.func.count())
            .select_from(cases)
            .where(cases.c.opened_at > now - timedelta(minutes=1))
        ).scalar_one()
        if int(recent) > policy.alarm_per_minute:
            table = Escalation.__table__
            sounded = session.execute(
                sa.select(sa.func.count())
                .select_from(table)
                .where(
                    table.c.kind == KIND_ALARM,
                    table.c.created_at > now - timedelta(seconds=policy.alarm_window_seconds),
                )
            ).scalar_one()
            if not sounded:
                logger.error(
                    "ESCALATION RATE ALARM: %d escalations in the last minute (limit %d); care team told",
                    int(recent),
                    policy.alarm_per_minute,
                )
                for destination in docs:
                    add_row(destination, KIND_ALARM, alarm_payload(int(recent), policy, now), now, None)
                written.append(KIND_ALARM)
    return tuple(written)


def close_sql(session: Session, conversation_id: str, now: datetime, reason: str) -> int:
    """Close the conversation's open case(s); returns how many."""
    from trd.store.escalation_models import EscalationCase

    cases = EscalationCase.__table__
    result = session.execute(
        sa.update(cases)
        .where(cases.c.conversation_id == conversation_id, cases.c.closed_at.is_(None))
        .values(closed_at=now, close_reason=reason)
    )
    return int(result.rowcount or 0)
