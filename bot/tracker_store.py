"""Rasa's SQL tracker store configured by one URL (``DATABASE_URL``).

endpoints.yml::

    tracker_store:
      type: bot.tracker_store.UrlSQLTrackerStore
      url: ${DATABASE_URL}

Rasa 3.6 builds custom tracker stores as
``cls(host=url, domain=domain, event_broker=event_broker, **kwargs)`` and silently
falls back to an in-memory store (losing every conversation on restart) if that
raises ``ImportError`` or ``AttributeError``; this class turns every
configuration problem into a :class:`TrackerStoreConfigError` so a bad setting
stops the server instead.

SQLite files get WAL mode and a busy timeout, so the Rasa server and the action
server (which keeps its own ``trd_*`` tables in the same file) can share it.
Passwords are never logged.

Long conversations are loaded with a bounded history (``bot.tracker_compaction``):
the tracker handed to Rasa starts with a snapshot of the state, while the
database keeps every event. ``TRACKER_COMPACT_AFTER_EVENTS`` (default 200;
0 turns it off) and ``TRACKER_KEEP_EVENTS`` (default 100) tune it.
"""

from __future__ import annotations

import itertools
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from bot import tracker_compaction

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Attribute on a loaded tracker: how many of its events are already in the database.
_PERSISTED = "_trd_persisted_events"
# Keyword arguments of SQLTrackerStore that the URL already gives.
_FROM_URL = ("dialect", "port", "db", "username", "password", "query")


class TrackerStoreConfigError(RasaException):
    """The tracker store URL is missing, malformed or unusable."""


def _safe(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def parse_url(url: Any) -> URL:
    """Parse the configured URL; ``postgres://`` is accepted as ``postgresql://``."""
    text = str(url or "").strip()
    if not text:
        raise TrackerStoreConfigError(
            "The tracker store needs a database URL: set DATABASE_URL "
            "(e.g. sqlite:////abs/path/var/trd.sqlite3 or postgresql+psycopg2://user:pass@host/db)."
        )
    if text.startswith("postgres://") or text.startswith("postgres+"):
        text = "postgresql" + text[len("postgres") :]
    try:
        parsed = make_url(text)
    except Exception as exc:  # noqa: BLE001 - reported as a configuration error
        raise TrackerStoreConfigError(
            "The tracker store URL (DATABASE_URL) is not a valid database URL; expected e.g. "
            "sqlite:////abs/path/var/trd.sqlite3 or postgresql+psycopg2://user:pass@host/db."
        ) from exc
    try:
        dialect_cls: Any = parsed.get_dialect()
        import_dbapi = getattr(dialect_cls, "import_dbapi", None) or dialect_cls.dbapi
        import_dbapi()
    except ImportError as exc:  # would make Rasa fall back to the in-memory store
        raise TrackerStoreConfigError(
            f"The database driver for the tracker store ({parsed.drivername}) is not installed: {exc}"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - e.g. NoSuchModuleError for an unknown dialect
        raise TrackerStoreConfigError(
            f"The tracker store URL names an unknown database dialect/driver: {_safe(parsed)}"
        ) from exc
    return parsed


def _is_sqlite_file(url: URL) -> bool:
    db = url.database or ""
    return url.get_backend_name() == "sqlite" and db not in ("", ":memory:") and "mode=memory" not in db


def _prepare_sqlite_file(url: URL) -> None:
    path = Path(url.database or "")
    if str(path).startswith("file:"):
        path = Path(str(path)[len("file:") :].split("?", 1)[0])
    parent = path.expanduser().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrackerStoreConfigError(
            f"Cannot create the directory {str(parent)!r} for the SQLite tracker store: {exc.strerror}"
        ) from exc
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TrackerStoreConfigError(
            f"The directory {str(parent)!r} for the SQLite tracker store is not writable."
        )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        mode = cursor.execute("PRAGMA journal_mode").fetchone()
        if mode is not None and str(mode[0]).lower() not in ("wal", "memory"):
            cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _enable_wal(url: URL) -> None:
    """Switch the file to WAL before Rasa's engine first connects (the mode is stored in the file)."""
    conn = sqlite3.connect(str(url.database), timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        _sqlite_on_connect(conn, None)
    finally:
        conn.close()


def _make_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    # Rasa's own options (POSTGRESQL_SCHEMA, pool sizes) keyed on the dialect name only
    options: Dict[str, Any] = dict(create_engine_kwargs(f"{url.get_backend_name()}://"))
    options["pool_pre_ping"] = True
    return sa.create_engine(url, **options)


class UrlSQLTrackerStore(SQLTrackerStore):
    """:class:`SQLTrackerStore` configured by a single SQLAlchemy URL (``url`` in endpoints.yml)."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            parsed = parse_url(url or host)
            ignored = sorted(k for k in kwargs if k in _FROM_URL)
            if ignored:
                logger.warning(
                    "tracker store: %s come from the URL; the separate settings are ignored", ignored
                )
            for key in (*_FROM_URL, "host"):
                kwargs.pop(key, None)
            sqlite_file = _is_sqlite_file(parsed)
            if sqlite_file:
                _prepare_sqlite_file(parsed)
                _enable_wal(parsed)
            query: Dict[str, Any] = dict(parsed.query)
            logger.info("tracker store: %s", _safe(parsed))
            super().__init__(
                domain=domain,
                dialect=parsed.drivername,
                # SQLTrackerStore re-parses the host as "scheme://{host}": keep IPv6 literals bracketed
                host=f"[{parsed.host}]" if parsed.host and ":" in parsed.host else parsed.host,
                port=parsed.port,
                db=parsed.database or "",
                username=parsed.username,
                password=parsed.password,
                event_broker=event_broker,
                query=query or None,
                **kwargs,
            )
            self.url = parsed
            # Rasa's engine has neither the SQLite pragmas nor pre-ping (a restarted PostgreSQL
            # would turn the next message into an error): swap in one that has.
            old: Engine = self.engine
            self.engine: Engine = _make_engine(old.url)
            self.sessionmaker = sessionmaker(bind=self.engine)
            old.dispose()
        except (ImportError, AttributeError, sqlite3.Error) as exc:
            # Rasa would silently switch to an in-memory store on ImportError/AttributeError.
            raise TrackerStoreConfigError(f"The SQL tracker store could not be set up: {exc}") from exc

    def __repr__(self) -> str:
        return f"UrlSQLTrackerStore({_safe(self.url)})"

    # --- bounded history -------------------------------------------------
    def _compaction(self) -> tuple[int, int]:
        after = int(os.environ.get("TRACKER_COMPACT_AFTER_EVENTS", tracker_compaction.DEFAULT_COMPACT_AFTER))
        keep = int(os.environ.get("TRACKER_KEEP_EVENTS", tracker_compaction.DEFAULT_KEEP))
        return after, max(keep, 20)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        tracker = await super().retrieve(sender_id)
        if tracker is None or self.domain is None:
            return tracker
        after, keep = self._compaction()
        if after > 0:
            tracker = tracker_compaction.compact(tracker, self.domain, after, keep)
        setattr(tracker, _PERSISTED, len(tracker.events))
        return tracker

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator:
        persisted = getattr(tracker, _PERSISTED, None)
        if persisted is None:  # a tracker this store did not load: count rows as Rasa does
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, persisted, len(tracker.events))

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        persisted = getattr(tracker, _PERSISTED, None)
        if self.event_broker is None or persisted is None:
            await super().stream_events(tracker)
            return
        new_events = list(itertools.islice(tracker.events, persisted, len(tracker.events)))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        setattr(tracker, _PERSISTED, len(tracker.events))
