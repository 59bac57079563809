"""Nothing lost (#10): the SMS inbox (a received message is kept until its turn is saved),
the SMS outbox (every reply part until the provider took it), and the message a crisis was
raised by (so a turn handled again records the crisis once).

- ``trd_sms_inbound`` gains the message itself (encrypted), when it was handled, and a lease
  (which process handles it, until when); rows from before this migration were handled.
- ``trd_sms_outbox``: one row per SMS part to send, with an idempotency key per part.
- ``trd_crisis_events.message_id``: the provider's or the channel's id of the message that
  raised the crisis; unique per conversation.

Revision ID: 0006
Revises: 0005
Create Date: 2024-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trd_sms_inbound") as batch:
        batch.add_column(sa.Column("payload_encrypted", sa.Text(), nullable=True))
        batch.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_owner", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    # Rows from before this migration were handled when they were received.
    op.execute("UPDATE trd_sms_inbound SET handled_at = received_at WHERE handled_at IS NULL")
    op.create_index("ix_trd_sms_inbound_handled_at", "trd_sms_inbound", ["handled_at"], unique=False)

    op.create_table(
        "trd_sms_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("inbound_sid", sa.String(length=64), nullable=True),
        sa.Column("part_index", sa.Integer(), nullable=False),
        sa.Column("body_encrypted", sa.Text(), nullable=False),
        sa.Column("from_number", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_sid", sa.String(length=64), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trd_sms_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_trd_sms_outbox_idempotency_key"),
    )
    op.create_index("ix_trd_sms_outbox_sender_hash", "trd_sms_outbox", ["sender_hash"], unique=False)
    op.create_index("ix_trd_sms_outbox_sent_at", "trd_sms_outbox", ["sent_at"], unique=False)

    with op.batch_alter_table("trd_crisis_events") as batch:
        batch.add_column(sa.Column("message_id", sa.String(length=255), nullable=True))
    op.create_index(
        "ix_trd_crisis_events_conversation_id_message_id",
        "trd_crisis_events",
        ["conversation_id", "message_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_trd_crisis_events_conversation_id_message_id", table_name="trd_crisis_events")
    with op.batch_alter_table("trd_crisis_events") as batch:
        batch.drop_column("message_id")
    op.drop_index("ix_trd_sms_outbox_sent_at", table_name="trd_sms_outbox")
    op.drop_index("ix_trd_sms_outbox_sender_hash", table_name="trd_sms_outbox")
    op.drop_table("trd_sms_outbox")
    op.drop_index("ix_trd_sms_inbound_handled_at", table_name="trd_sms_inbound")
    with op.batch_alter_table("trd_sms_inbound") as batch:
        batch.drop_column("attempts")
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
        batch.drop_column("handled_at")
        batch.drop_column("payload_encrypted")
