"""SQLAlchemy models of the weekly check-ins (migration ``0007_checkins``).

The schedule lives here, never in Rasa's in-process reminders (lost on restart, unsafe
with more than one server):

- ``trd_checkin_subscriptions``: one per person who opted in. ``conversation_id`` is
  the conversation whose intake record gains the follow-up series; ``sms_sender_id`` is
  the SMS conversation check-ins are texted into (the same id for an SMS intake; a web
  intake with a confirmed phone has both); a web person with a personal link has
  ``link_token_hash`` (the SHA-256 of the link's token, never the token) and
  ``link_expires_at``. ``timezone`` is an IANA name, confirmed by the person.
- ``trd_checkins``: one row per scheduled check-in (``sequence`` 1, 2, ... per
  subscription, unique, so a week is never scheduled twice). The scheduler worker acts
  on a row when ``next_action_at`` has come (index on ``status, next_action_at``: one
  pass reads only what is due, never every conversation): ``scheduled`` -> sent
  (``sent``) -> one reminder (``reminded``) -> ``answered``, ``missed`` (unanswered when
  the next one is sent), ``not_sent`` (the person had texted STOP), ``cancelled``
  (check-ins stopped). ``sending`` is the short moment between the Rasa server's
  claim of a row and the text leaving (see ``trd.checkins.store``). ``answers`` holds
  the nine PHQ-9 items (null for a skipped item), ``total``, ``note`` what changed.
- ``trd_checkin_attempts``: every attempt the worker made (send or reminder), its worker,
  outcome and error: the audit trail.
- ``trd_checkin_codes``: a code texted to a phone a web user gave, kept as a keyed hash
  with its expiry and the number of tries.
"""

from __future__ import annotations

import sqlalchemy as sa

from trd.store.models import Base, JSONType, UTCDateTime

SUB_ACTIVE = "active"
SUB_PAUSED = "paused"
SUB_STOPPED = "stopped"

CHANNEL_SMS = "sms"
CHANNEL_WEB = "web"

ST_SCHEDULED = "scheduled"
ST_SENDING = "sending"
ST_SENT = "sent"
ST_REMINDED = "reminded"
ST_ANSWERED = "answered"
ST_MISSED = "missed"
ST_NOT_SENT = "not_sent"
ST_CANCELLED = "cancelled"
OPEN_STATUSES = (ST_SENDING, ST_SENT, ST_REMINDED)


class CheckinSubscription(Base):
    """A person's weekly check-ins."""

    __tablename__ = "trd_checkin_subscriptions"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, unique=True)
    channel = sa.Column(sa.String(16), nullable=False)  # sms, web
    sms_sender_id = sa.Column(sa.String(64), nullable=True, index=True)
    status = sa.Column(sa.String(16), nullable=False)
    timezone = sa.Column(sa.String(64), nullable=False)
    link_token_hash = sa.Column(sa.String(64), nullable=True, unique=True)
    link_expires_at = sa.Column(UTCDateTime, nullable=True)
    created_at = sa.Column(UTCDateTime, nullable=False)
    updated_at = sa.Column(UTCDateTime, nullable=False)


class Checkin(Base):
    """One scheduled check-in and what became of it."""

    __tablename__ = "trd_checkins"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "sequence"),
        sa.Index("ix_trd_checkins_status_next_action_at", "status", "next_action_at"),
    )

    id = sa.Column(sa.String(36), primary_key=True)  # UUID
    subscription_id = sa.Column(
        sa.Integer, sa.ForeignKey("trd_checkin_subscriptions.id"), nullable=False, index=True
    )
    sequence = sa.Column(sa.Integer, nullable=False)
    due_at = sa.Column(UTCDateTime, nullable=False)
    status = sa.Column(sa.String(16), nullable=False)
    next_action_at = sa.Column(UTCDateTime, nullable=True)
    claim_token = sa.Column(sa.String(36), nullable=True)
    claimed_by = sa.Column(sa.String(128), nullable=True)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    sent_at = sa.Column(UTCDateTime, nullable=True)
    reminded_at = sa.Column(UTCDateTime, nullable=True)
    answered_at = sa.Column(UTCDateTime, nullable=True)
    activity_at = sa.Column(UTCDateTime, nullable=True)  # the person's latest answer to it
    answers = sa.Column(JSONType, nullable=True)
    total = sa.Column(sa.Integer, nullable=True)
    note = sa.Column(sa.Text, nullable=True)
    last_error = sa.Column(sa.Text, nullable=True)
    created_at = sa.Column(UTCDateTime, nullable=False)


class CheckinAttempt(Base):
    """The audit trail: every send or reminder attempt of every check-in."""

    __tablename__ = "trd_checkin_attempts"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    checkin_id = sa.Column(sa.String(36), sa.ForeignKey("trd_checkins.id"), nullable=False, index=True)
    kind = sa.Column(sa.String(16), nullable=False)  # send, reminder
    worker = sa.Column(sa.String(128), nullable=False)
    started_at = sa.Column(UTCDateTime, nullable=False)
    finished_at = sa.Column(UTCDateTime, nullable=True)
    outcome = sa.Column(sa.String(16), nullable=False)
    error = sa.Column(sa.Text, nullable=True)


class CheckinCode(Base):
    """A confirmation code texted to a phone number a web user gave (only its keyed hash)."""

    __tablename__ = "trd_checkin_codes"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    sms_sender_id = sa.Column(sa.String(64), nullable=False)
    code_hash = sa.Column(sa.String(64), nullable=False)
    timezone = sa.Column(sa.String(64), nullable=True)
    tries = sa.Column(sa.Integer, nullable=False, default=0)
    created_at = sa.Column(UTCDateTime, nullable=False)
    expires_at = sa.Column(UTCDateTime, nullable=False)
    used_at = sa.Column(UTCDateTime, nullable=True)
