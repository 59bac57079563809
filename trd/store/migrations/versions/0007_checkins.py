"""Weekly check-ins (#12): subscriptions, the scheduled check-ins, every attempt, phone codes;
and care-team notifications that are not crises in the escalation outbox.

- ``trd_checkin_subscriptions``, ``trd_checkins``, ``trd_checkin_attempts``,
  ``trd_checkin_codes`` (see ``trd.store.checkin_models``).
- ``trd_escalations.crisis_id`` may be null: a follow-up notification (a PHQ-9 that
  worsened by 5 points or more, two missed check-ins after a high score) goes through the
  same outbox with ``kind = 'followup'`` and no crisis behind it.
- ``trd_escalations.priority``: ``urgent`` (every crisis row, as before) or ``routine``
  (follow-up notifications); the worker delivers urgent rows first.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "trd_checkin_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sms_sender_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("link_token_hash", sa.String(length=64), nullable=True),
        sa.Column("link_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trd_checkin_subscriptions"),
        sa.UniqueConstraint("conversation_id", name="uq_trd_checkin_subscriptions_conversation_id"),
        sa.UniqueConstraint("link_token_hash", name="uq_trd_checkin_subscriptions_link_token_hash"),
    )
    op.create_index(
        "ix_trd_checkin_subscriptions_sms_sender_id",
        "trd_checkin_subscriptions",
        ["sms_sender_id"],
        unique=False,
    )
    op.create_table(
        "trd_checkins",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("next_action_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answers", JSON_TYPE, nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["trd_checkin_subscriptions.id"],
            name="fk_trd_checkins_subscription_id_trd_checkin_subscriptions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_trd_checkins"),
        sa.UniqueConstraint("subscription_id", "sequence", name="uq_trd_checkins_subscription_id_sequence"),
    )
    op.create_index(
        "ix_trd_checkins_status_next_action_at", "trd_checkins", ["status", "next_action_at"], unique=False
    )
    op.create_index("ix_trd_checkins_subscription_id", "trd_checkins", ["subscription_id"], unique=False)
    op.create_table(
        "trd_checkin_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("checkin_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["trd_checkins.id"], name="fk_trd_checkin_attempts_checkin_id_trd_checkins"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_trd_checkin_attempts"),
    )
    op.create_index(
        "ix_trd_checkin_attempts_checkin_id", "trd_checkin_attempts", ["checkin_id"], unique=False
    )
    op.create_table(
        "trd_checkin_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("sms_sender_id", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trd_checkin_codes"),
    )
    op.create_index(
        "ix_trd_checkin_codes_conversation_id", "trd_checkin_codes", ["conversation_id"], unique=False
    )
    with op.batch_alter_table("trd_escalations") as batch:
        batch.alter_column("crisis_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("priority", sa.String(length=16), nullable=False, server_default="urgent"))


def downgrade() -> None:
    with op.batch_alter_table("trd_escalations") as batch:
        batch.drop_column("priority")
    op.drop_index("ix_trd_checkin_codes_conversation_id", table_name="trd_checkin_codes")
    op.drop_table("trd_checkin_codes")
    op.drop_index("ix_trd_checkin_attempts_checkin_id", table_name="trd_checkin_attempts")
    op.drop_table("trd_checkin_attempts")
    op.drop_index("ix_trd_checkins_subscription_id", table_name="trd_checkins")
    op.drop_index("ix_trd_checkins_status_next_action_at", table_name="trd_checkins")
    op.drop_table("trd_checkins")
    op.drop_index("ix_trd_checkin_subscriptions_sms_sender_id", table_name="trd_checkin_subscriptions")
    op.drop_table("trd_checkin_subscriptions")
