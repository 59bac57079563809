"""SQLAlchemy models of the escalation outbox (migration ``0003_escalation``).

A crisis in a deployment with a care team writes, in the same transaction as the
crisis record (``trd_crisis_events``), one ``trd_escalations`` row per destination
(``webhook``, ``sms``). The delivery worker (``python -m trd.escalation.worker``)
sends them and audits every attempt in ``trd_escalation_attempts``.

- ``id`` is a UUID: the idempotency key the care team sees (``X-Escalation-Id`` and the
  payload's ``id``), the same on every retry.
- ``status`` is ``pending`` until a destination accepted it, then ``delivered``; a row is
  never given up.
- ``next_attempt_at``: when the row is next due. A worker claims a due row by moving it
  ``ESCALATION_LEASE_SECONDS`` into the future and setting ``claim_token``; if the
  worker dies mid-delivery, the row simply becomes due again when that lease ends.
- ``payload``: what is delivered (JSON). For an SMS conversation it holds the person's
  phone number in clear while the row is pending; it is replaced by a marker once
  that destination has the escalation (see ``trd.escalation.outbox``).
"""

from __future__ import annotations

import sqlalchemy as sa

from trd.store.models import Base, JSONType, UTCDateTime

KIND_PAGE = "page"
KIND_UPDATE = "update"
KIND_ALARM = "alarm"
KIND_FOLLOWUP = "followup"  # a non-crisis notification from the weekly check-ins (#12)
PRIORITY_URGENT = "urgent"
PRIORITY_ROUTINE = "routine"

STATUS_PENDING = "pending"
STATUS_DELIVERED = "delivered"

# trd_escalation_attempts.outcome
OUTCOME_IN_PROGRESS = "in_progress"  # claimed; the worker has not reported back (yet)
OUTCOME_DELIVERED = "delivered"
OUTCOME_FAILED = "failed"  # an HTTP status other than 2xx, a network error, a timeout
OUTCOME_ABANDONED = "abandoned"  # the worker died or stopped mid-attempt; the lease ran out
OUTCOME_RELEASED = "released"  # the worker was stopped and handed the row back at once


class Escalation(Base):
    """One escalation of one crisis to one destination (the outbox)."""

    __tablename__ = "trd_escalations"
    __table_args__ = (sa.Index("ix_trd_escalations_status_next_attempt_at", "status", "next_attempt_at"),)

    id = sa.Column(sa.String(36), primary_key=True)  # UUID, the idempotency key
    # null for a follow-up notification (kind "followup", migration 0007): no crisis behind it
    crisis_id = sa.Column(sa.Integer, sa.ForeignKey("trd_crisis_events.id"), nullable=True, index=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    channel = sa.Column(sa.String(64), nullable=False)  # sms, web, rest (what the care team sees)
    destination = sa.Column(sa.String(16), nullable=False)  # webhook, sms
    payload = sa.Column(JSONType, nullable=False)
    status = sa.Column(sa.String(16), nullable=False)
    attempts = sa.Column(sa.Integer, nullable=False)
    next_attempt_at = sa.Column(UTCDateTime, nullable=False)
    claim_token = sa.Column(sa.String(36), nullable=True)
    claimed_by = sa.Column(sa.String(128), nullable=True)
    last_error = sa.Column(sa.Text, nullable=True)
    delivered_at = sa.Column(UTCDateTime, nullable=True)
    created_at = sa.Column(UTCDateTime, nullable=False)
    # page (the first alert of a case), update (later risky messages of an open case),
    # alarm (escalations per minute passed ESCALATION_ALARM_PER_MINUTE); migration 0005
    kind = sa.Column(sa.String(16), nullable=False, server_default=KIND_PAGE)
    case_id = sa.Column(sa.String(36), nullable=True, index=True)
    # urgent (every crisis row) or routine (follow-up notifications); migration 0007
    priority = sa.Column(sa.String(16), nullable=False, server_default=PRIORITY_URGENT)


class EscalationCase(Base):
    """One open escalation per conversation: the care team is paged once, then updated.

    Opened by a conversation's first crisis; later crises add to it. Closed when the person
    says they are safe (``resolved``), or when no crisis came for ``ESCALATION_CLOSE_AFTER_SECONDS``
    (``idle``); a crisis after that opens a new case and a new page.
    """

    __tablename__ = "trd_escalation_cases"

    id = sa.Column(sa.String(36), primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    channel = sa.Column(sa.String(64), nullable=False)
    opened_at = sa.Column(UTCDateTime, nullable=False)
    last_crisis_at = sa.Column(UTCDateTime, nullable=False)
    crisis_count = sa.Column(sa.Integer, nullable=False)
    # when the latest update row is due (updates are at least ESCALATION_UPDATE_MIN_SECONDS apart)
    last_update_at = sa.Column(UTCDateTime, nullable=True)
    closed_at = sa.Column(UTCDateTime, nullable=True)
    close_reason = sa.Column(sa.String(16), nullable=True)


class EscalationAttempt(Base):
    """The audit trail: every delivery attempt of every escalation."""

    __tablename__ = "trd_escalation_attempts"
    __table_args__ = (sa.UniqueConstraint("escalation_id", "attempt"),)

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    escalation_id = sa.Column(sa.String(36), sa.ForeignKey("trd_escalations.id"), nullable=False, index=True)
    attempt = sa.Column(sa.Integer, nullable=False)  # 1, 2, ... per escalation
    worker = sa.Column(sa.String(128), nullable=False)
    started_at = sa.Column(UTCDateTime, nullable=False)
    finished_at = sa.Column(UTCDateTime, nullable=True)
    outcome = sa.Column(sa.String(16), nullable=False)
    http_status = sa.Column(sa.Integer, nullable=True)
    error = sa.Column(sa.Text, nullable=True)
