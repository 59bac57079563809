"""Hardening (#10): server-side web sessions, one open escalation per conversation, the
deletion audit, and no phone number in the outbox.

- ``trd_web_sessions``: issued web chat sessions (revocable, idle lifetime).
- ``trd_escalation_cases`` and ``trd_escalations.kind`` / ``case_id``: a conversation's
  crises share one open case; the care team is paged once, then updated.
- ``trd_deletions``: that a person's data was deleted (a one-way hash, no identifiers).
- Existing outbox rows that still carry a phone number in clear get the SMS sender id
  instead; the worker decrypts the number from ``trd_sms_contacts`` only when it sends.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _payload(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _move_phone_numbers() -> None:
    """Pending rows: the phone number -> the SMS sender id (the conversation id)."""
    bind = op.get_bind()
    rows = sa.table(
        "trd_escalations",
        sa.column("id", sa.String),
        sa.column("conversation_id", sa.String),
        sa.column("payload", JSON_TYPE),
    )
    for row in bind.execute(sa.select(rows.c.id, rows.c.conversation_id, rows.c.payload)).all():
        payload = _payload(row.payload)
        if not isinstance(payload, dict):
            continue
        contact = payload.get("contact")
        if not isinstance(contact, dict) or not contact.get("phone"):
            continue
        contact = {**contact, "phone": None, "sms_sender": row.conversation_id}
        new_payload = {**payload, "contact": contact}
        bind.execute(sa.update(rows).where(rows.c.id == row.id).values(payload=new_payload))


def upgrade() -> None:
    op.create_table(
        "trd_web_sessions",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("session_id", name="pk_trd_web_sessions"),
    )
    op.create_index("ix_trd_web_sessions_last_seen_at", "trd_web_sessions", ["last_seen_at"], unique=False)
    op.create_table(
        "trd_deletions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("rows_removed", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trd_deletions"),
    )
    op.create_index("ix_trd_deletions_subject_hash", "trd_deletions", ["subject_hash"], unique=False)
    op.create_table(
        "trd_escalation_cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_crisis_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("crisis_count", sa.Integer(), nullable=False),
        sa.Column("last_update_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trd_escalation_cases"),
    )
    op.create_index(
        "ix_trd_escalation_cases_conversation_id", "trd_escalation_cases", ["conversation_id"], unique=False
    )
    with op.batch_alter_table("trd_escalations") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="page"))
        batch.add_column(sa.Column("case_id", sa.String(length=36), nullable=True))
        batch.create_index("ix_trd_escalations_case_id", ["case_id"], unique=False)
    _move_phone_numbers()


def downgrade() -> None:
    with op.batch_alter_table("trd_escalations") as batch:
        batch.drop_index("ix_trd_escalations_case_id")
        batch.drop_column("case_id")
        batch.drop_column("kind")
    op.drop_index("ix_trd_escalation_cases_conversation_id", table_name="trd_escalation_cases")
    op.drop_table("trd_escalation_cases")
    op.drop_index("ix_trd_deletions_subject_hash", table_name="trd_deletions")
    op.drop_table("trd_deletions")
    op.drop_index("ix_trd_web_sessions_last_seen_at", table_name="trd_web_sessions")
    op.drop_table("trd_web_sessions")
