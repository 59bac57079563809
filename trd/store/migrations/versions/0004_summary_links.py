"""Summary links: hashed, expiring, revocable links to a conversation's summary.

Revision ID: 0004
Revises: 0003
Create Date: 2024-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trd_summary_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trd_summary_links"),
        sa.UniqueConstraint("token_hash", name="uq_trd_summary_links_token_hash"),
    )
    op.create_index(
        "ix_trd_summary_links_conversation_id", "trd_summary_links", ["conversation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_trd_summary_links_conversation_id", table_name="trd_summary_links")
    op.drop_table("trd_summary_links")
