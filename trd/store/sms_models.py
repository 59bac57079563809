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
- ``trd_sms_inbound``: every message received (the inbox), by the provider's MessageSid
  (unique, so a provider retry is answered once). It is written before the webhook answers
  200, with the message Fernet-encrypted (``payload_encrypted``, cleared once handled), and
  marked ``handled_at`` only after its turn was saved and its replies queued; until then a
  lease (``lease_owner``, ``lease_until``) says which process handles it (migration 0006).
  Old handled rows are pruned.
- ``trd_sms_outbox``: every SMS part to send, with an idempotency key per part
  (``<MessageSid>:<n>``), the text encrypted and no phone number (the number is decrypted
  from ``trd_sms_contacts`` only to send); ``sent_at`` once the provider took it.
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
    # Fernet token of {"from", "to", "body", "num_media"}; None once handled (and for old rows).
    payload_encrypted = sa.Column(sa.Text, nullable=True)
    handled_at = sa.Column(UTCDateTime, nullable=True, index=True)
    lease_owner = sa.Column(sa.String(128), nullable=True)
    lease_until = sa.Column(UTCDateTime, nullable=True)
    attempts = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")


class SmsOutbound(Base):
    """One SMS part to send (at least once; the idempotency key makes a part one row)."""

    __tablename__ = "trd_sms_outbox"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    idempotency_key = sa.Column(sa.String(160), nullable=False, unique=True)
    sender_hash = sa.Column(sa.String(64), nullable=False, index=True)
    inbound_sid = sa.Column(sa.String(64), nullable=True)
    part_index = sa.Column(sa.Integer, nullable=False)
    # Fernet token of the text (the number is not here: trd_sms_contacts has it, encrypted).
    body_encrypted = sa.Column(sa.Text, nullable=False)
    from_number = sa.Column(sa.String(64), nullable=True)  # the service's number
    created_at = sa.Column(UTCDateTime, nullable=False)
    next_attempt_at = sa.Column(UTCDateTime, nullable=False)
    attempts = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    lease_owner = sa.Column(sa.String(128), nullable=True)
    lease_until = sa.Column(UTCDateTime, nullable=True)
    sent_at = sa.Column(UTCDateTime, nullable=True, index=True)
    provider_sid = sa.Column(sa.String(64), nullable=True)
    failed_at = sa.Column(UTCDateTime, nullable=True)
    last_error = sa.Column(sa.String(255), nullable=True)
