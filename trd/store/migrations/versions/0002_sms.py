"""The SMS channel's tables: contacts (encrypted numbers, opt-outs) and received message ids.

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Written out here (not imported from models) so this migration never changes.
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "trd_sms_contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_encrypted", sa.Text(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_buttons", JSON_TYPE, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trd_sms_contacts"),
        sa.UniqueConstraint("sender_hash", name="uq_trd_sms_contacts_sender_hash"),
    )
    op.create_table(
        "trd_sms_inbound",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trd_sms_inbound"),
        sa.UniqueConstraint("message_sid", name="uq_trd_sms_inbound_message_sid"),
    )
    op.create_index("ix_trd_sms_inbound_sender_hash", "trd_sms_inbound", ["sender_hash"], unique=False)
    op.create_index("ix_trd_sms_inbound_received_at", "trd_sms_inbound", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_trd_sms_inbound_received_at", table_name="trd_sms_inbound")
    op.drop_index("ix_trd_sms_inbound_sender_hash", table_name="trd_sms_inbound")
    op.drop_table("trd_sms_inbound")
    op.drop_table("trd_sms_contacts")
