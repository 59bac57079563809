"""SQLAlchemy models of the SMS channel's tables (migration ``0002_sms``).

Kept on the project's declarative ``Base`` so the migration/model comparison
(tests/unit/test_migrations.py) sees them; ``trd/store/migrations/env.py``
imports this module.

Neither table holds a phone number in clear text:

- ``trd_sms_contacts``: one row per person who texted, keyed by the sender id
  (``sms-`` + a keyed hash of the number, see ``trd.sms.store``). The
  number needed to reply or reach the person is stored Fernet-encrypted, with
  the opt-out state (STOP/START) and the buttons last offered by SMS (so a
  reply of "1" maps back to the first button, even after a restart).
- ``trd_sms_inbound``: the provider's MessageSid of every message received, with
  a unique constraint, so a provider retry is answered once. Old rows are pruned.
"""

from __future__ import annotations

import sqlalchemy as sa

from trd.store.models import Base, JSONType, UTCDateTime


class SmsContact(Base):
    """A person who texted the service (no clear-text number)."""

    __tablename__ = "trd_sms_contacts"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    # The Rasa sender id ("sms-" + 32 hex digits of HMAC-SHA256(PHONE_HASH_SECRET, number)).
    sender_hash = sa.Column(sa.String(64), nullable=False, unique=True)
    # Fernet token of the number (key from SMS_ENCRYPTION_KEY or PHONE_HASH_SECRET).
    phone_encrypted = sa.Column(sa.Text, nullable=False)
    opted_out = sa.Column(sa.Boolean, nullable=False, default=False)
    opted_out_at = sa.Column(UTCDateTime, nullable=True)
    # [{"title": ..., "payload": ...}] of the last message with buttons sent to this person.
    last_buttons = sa.Column(JSONType, nullable=True)
    created_at = sa.Column(UTCDateTime, nullable=False)
    updated_at = sa.Column(UTCDateTime, nullable=False)
    last_seen_at = sa.Column(UTCDateTime, nullable=False)


class SmsInbound(Base):
    """A received message's provider id, so a retried delivery is handled once."""

    __tablename__ = "trd_sms_inbound"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    message_sid = sa.Column(sa.String(64), nullable=False, unique=True)
    sender_hash = sa.Column(sa.String(64), nullable=False, index=True)
    received_at = sa.Column(UTCDateTime, nullable=False, index=True)
