"""SQLAlchemy model of the summary links (migration ``0004_summary_links``).

A person gets a link to their full summary (``PUBLIC_BASE_URL/summary/<token>``) at
the end of the intake. The token itself is never stored: only its SHA-256
(``token_hash``, 64 hex digits), so a copy of the database does not open anyone's
summary. A link answers until ``expires_at`` (``SUMMARY_LINK_TTL_DAYS``, 7 by
default) or until the person says "delete my summary" (``revoked_at``).
"""

from __future__ import annotations

import sqlalchemy as sa

from trd.store.models import Base, UTCDateTime


class SummaryLinkRow(Base):
    """One link to a conversation's summary."""

    __tablename__ = "trd_summary_links"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    token_hash = sa.Column(sa.String(64), nullable=False, unique=True)
    created_at = sa.Column(UTCDateTime, nullable=False)
    expires_at = sa.Column(UTCDateTime, nullable=False)
    revoked_at = sa.Column(UTCDateTime, nullable=True)
