"""Server-side web chat sessions (``trd_web_sessions``): issued, used, revoked, purged.

A web chat token (``bot.channels.webchat_session``) is signed, but a signature alone cannot
be taken back. So every session the server issues also has a row here, and a token is
honoured only while its row says ``active``:

- ``unknown``: no row (never issued here, or purged) -> refused;
- ``revoked``: "start over" or "clear this chat" ended it, or the person's data was
  deleted -> refused for good (the conversation it named can never be reopened with it);
- ``expired``: not used for longer than the idle lifetime (``WEBCHAT_SESSION_TTL``) ->
  refused, and revoked so it stays refused;
- ``active``: used now; :meth:`touch` moves ``last_seen_at`` on (written at most every
  :data:`TOUCH_EVERY`, so a chatty session does not write on every message).

:meth:`check` only reads (a SQLite file write-locked by another process does not hold a
message up: WAL readers never wait), and the channel touches in the background; the
registry's SQLite connections wait at most :data:`SQLITE_WAIT_SECONDS` for a write lock.

Rows live in the database every process shares, so a revocation holds across restarts and
across several Rasa server processes. Synchronous (SQLAlchemy); async callers use
``asyncio.to_thread``. Nothing connects at import time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Optional, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from trd.store.privacy_models import WebSession

ACTIVE = "active"
REVOKED = "revoked"
EXPIRED = "expired"
UNKNOWN = "unknown"
TOUCH_EVERY = timedelta(seconds=60)
MAX_REASON = 32
SQLITE_WAIT_SECONDS = 3


class SessionRegistry(Protocol):
    def create(self, session_id: str, now: datetime) -> None:
        """Record a newly issued session."""

    def check(self, session_id: str, now: datetime, idle: timedelta) -> str:
        """``active``, ``revoked``, ``expired`` or ``unknown`` (reads only, but for marking an
        expired session revoked, best effort)."""

    def touch(self, session_id: str, now: datetime) -> None:
        """Mark an active session used now (at most every TOUCH_EVERY)."""

    def revoke(self, session_id: str, now: datetime, reason: str) -> bool:
        """End a session at once; False when it was not active."""

    def purge(self, older_than: datetime) -> int:
        """Delete rows last used before ``older_than``; returns how many."""


@dataclass
class _Row:
    created_at: datetime
    last_seen_at: datetime
    revoked_at: Optional[datetime] = None
    reason: Optional[str] = None


class InMemorySessionRegistry:
    """A faithful fake of :class:`SqlSessionRegistry` (unit tests)."""

    def __init__(self) -> None:
        self._rows: Dict[str, _Row] = {}
        self._lock = threading.Lock()

    def create(self, session_id: str, now: datetime) -> None:
        with self._lock:
            self._rows[session_id] = _Row(now, now)

    def check(self, session_id: str, now: datetime, idle: timedelta) -> str:
        with self._lock:
            row = self._rows.get(session_id)
            if row is None:
                return UNKNOWN
            if row.revoked_at is not None:
                return REVOKED
            if now - row.last_seen_at > idle:
                row.revoked_at, row.reason = now, "idle"
                return EXPIRED
            return ACTIVE

    def touch(self, session_id: str, now: datetime) -> None:
        with self._lock:
            row = self._rows.get(session_id)
            if row is not None and row.revoked_at is None and now - row.last_seen_at >= TOUCH_EVERY:
                row.last_seen_at = now

    def revoke(self, session_id: str, now: datetime, reason: str) -> bool:
        with self._lock:
            row = self._rows.get(session_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at, row.reason = now, reason[:MAX_REASON]
            return True

    def purge(self, older_than: datetime) -> int:
        with self._lock:
            old = [k for k, r in self._rows.items() if r.last_seen_at < older_than]
            for key in old:
                del self._rows[key]
            return len(old)


class SqlSessionRegistry:
    """:class:`SessionRegistry` on the shared database (SQLite or PostgreSQL)."""

    def __init__(self, engine_factory: Callable[[], Engine]) -> None:
        self._engine_factory = engine_factory
        self._engine: Optional[Engine] = None

    @classmethod
    def for_url(cls, url: str) -> SqlSessionRegistry:
        """A registry with its own engine: on SQLite, writes wait at most SQLITE_WAIT_SECONDS."""

        def factory() -> Engine:
            from sqlalchemy import event

            from trd.store.db import is_sqlite, make_engine, parse_database_url

            engine = make_engine(url)
            if is_sqlite(parse_database_url(url)):

                def short_wait(dbapi_connection: Any, _record: Any) -> None:
                    dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_WAIT_SECONDS * 1000}")

                event.listen(engine, "connect", short_wait)  # after the project's own pragmas
            return engine

        return cls(factory)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._engine_factory()
        return self._engine

    def create(self, session_id: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(WebSession.__table__).values(
                    session_id=session_id, created_at=now, last_seen_at=now
                )
            )

    def check(self, session_id: str, now: datetime, idle: timedelta) -> str:
        table = WebSession.__table__
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(table.c.last_seen_at, table.c.revoked_at).where(table.c.session_id == session_id)
            ).first()
        if row is None:
            return UNKNOWN
        if row.revoked_at is not None:
            return REVOKED
        if now - row.last_seen_at > idle:
            try:  # so it stays ended even if its owner comes back in time by the clock's measure
                with self.engine.begin() as conn:
                    conn.execute(
                        sa.update(table)
                        .where(table.c.session_id == session_id, table.c.revoked_at.is_(None))
                        .values(revoked_at=now, revoke_reason="idle")
                    )
            except sa.exc.OperationalError:
                pass  # the database is busy: refused now, and refused again next time anyway
            return EXPIRED
        return ACTIVE

    def touch(self, session_id: str, now: datetime) -> None:
        table = WebSession.__table__
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(table)
                .where(
                    table.c.session_id == session_id,
                    table.c.revoked_at.is_(None),
                    table.c.last_seen_at <= now - TOUCH_EVERY,
                )
                .values(last_seen_at=now)
            )

    def revoke(self, session_id: str, now: datetime, reason: str) -> bool:
        table = WebSession.__table__
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(table)
                .where(table.c.session_id == session_id, table.c.revoked_at.is_(None))
                .values(revoked_at=now, revoke_reason=reason[:MAX_REASON])
            )
            return bool(result.rowcount)

    def purge(self, older_than: datetime) -> int:
        table = WebSession.__table__
        with self.engine.begin() as conn:
            result = conn.execute(sa.delete(table).where(table.c.last_seen_at < older_than))
            return int(result.rowcount or 0)
