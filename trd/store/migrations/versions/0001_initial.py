"""The project's own tables: crisis events, safety plans, intakes.

Revision ID: 0001
Revises:
Create Date: 2024-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out here (not imported from models) so this migration never changes.
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "trd_crisis_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("message_excerpt", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trd_crisis_events"),
    )
    op.create_index(
        "ix_trd_crisis_events_conversation_id", "trd_crisis_events", ["conversation_id"], unique=False
    )
    op.create_table(
        "trd_safety_plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("sections", JSON_TYPE, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trd_safety_plans"),
        sa.UniqueConstraint("conversation_id", name="uq_trd_safety_plans_conversation_id"),
    )
    op.create_table(
        "trd_intakes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("record", JSON_TYPE, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trd_intakes"),
        sa.UniqueConstraint("conversation_id", name="uq_trd_intakes_conversation_id"),
    )


def downgrade() -> None:
    op.drop_table("trd_intakes")
    op.drop_table("trd_safety_plans")
    op.drop_index("ix_trd_crisis_events_conversation_id", table_name="trd_crisis_events")
    op.drop_table("trd_crisis_events")
