"""The escalation outbox: escalations to the care team and the audit of every delivery attempt.

Revision ID: 0003
Revises: 0002
Create Date: 2024-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Written out here (not imported from models) so this migration never changes.
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "trd_escalations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("destination", sa.String(length=16), nullable=False),
        sa.Column("payload", JSON_TYPE, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["crisis_id"],
            ["trd_crisis_events.id"],
            name="fk_trd_escalations_crisis_id_trd_crisis_events",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_trd_escalations"),
    )
    op.create_index("ix_trd_escalations_crisis_id", "trd_escalations", ["crisis_id"], unique=False)
    op.create_index(
        "ix_trd_escalations_conversation_id", "trd_escalations", ["conversation_id"], unique=False
    )
    op.create_index(
        "ix_trd_escalations_status_next_attempt_at",
        "trd_escalations",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "trd_escalation_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("escalation_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["trd_escalations.id"],
            name="fk_trd_escalation_attempts_escalation_id_trd_escalations",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_trd_escalation_attempts"),
        sa.UniqueConstraint(
            "escalation_id", "attempt", name="uq_trd_escalation_attempts_escalation_id_attempt"
        ),
    )
    op.create_index(
        "ix_trd_escalation_attempts_escalation_id",
        "trd_escalation_attempts",
        ["escalation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_trd_escalation_attempts_escalation_id", table_name="trd_escalation_attempts")
    op.drop_table("trd_escalation_attempts")
    op.drop_index("ix_trd_escalations_status_next_attempt_at", table_name="trd_escalations")
    op.drop_index("ix_trd_escalations_conversation_id", table_name="trd_escalations")
    op.drop_index("ix_trd_escalations_crisis_id", table_name="trd_escalations")
    op.drop_table("trd_escalations")
