"""SQLAlchemy models of the privacy tables (migration ``0005_hardening``).

- ``trd_web_sessions``: every web chat session the server issued. A token is honoured only
  while its row exists, is not revoked and was used within ``WEBCHAT_SESSION_TTL``
  (``bot.channels.webchat_session``), so "start over", "clear this chat" and an idle
  timeout end a token at once, in every process and across restarts.
- ``trd_deletions``: the minimal audit that a person's data was deleted (on request or by
  the retention purge): when, the channel, the reason, how many rows went, and a one-way
  hash of the conversation id (no other identifier; ``trd.privacy``).
"""

from __future__ import annotations

import sqlalchemy as sa

from trd.store.models import Base, JSONType, UTCDateTime


class WebSession(Base):
    """One web chat session (the sender id is ``web-`` + ``session_id``)."""

    __tablename__ = "trd_web_sessions"

    session_id = sa.Column(sa.String(32), primary_key=True)
    created_at = sa.Column(UTCDateTime, nullable=False)
    last_seen_at = sa.Column(UTCDateTime, nullable=False, index=True)
    revoked_at = sa.Column(UTCDateTime, nullable=True)
    revoke_reason = sa.Column(sa.String(32), nullable=True)


class Deletion(Base):
    """That a conversation's data was deleted, and nothing that identifies it."""

    __tablename__ = "trd_deletions"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    deleted_at = sa.Column(UTCDateTime, nullable=False)
    channel = sa.Column(sa.String(64), nullable=False)  # web, sms, rest, unknown
    reason = sa.Column(sa.String(16), nullable=False)  # request, retention
    subject_hash = sa.Column(sa.String(64), nullable=False, index=True)  # SHA-256 of the conversation id
    rows_removed = sa.Column(JSONType, nullable=False)  # {table: count}
