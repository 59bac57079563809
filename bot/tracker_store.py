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
database keeps every event. The latest snapshot of each conversation is kept in
``rasa_tracker_snapshots`` (created here, like Rasa's ``events``; it is a cache
that can be deleted at any time) with the id of the last event it covers, so a
turn reads one snapshot row and the events after it: the cost of loading a
conversation does not grow with its length. ``TRACKER_COMPACT_AFTER_EVENTS``
(default 100; 0 turns it off) and ``TRACKER_KEEP_EVENTS`` (default 50) tune it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
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

# The latest snapshot of each conversation (see bot.tracker_compaction): the serialised events
# that recreate the state up to and including the stored event ``last_event_id``.
_METADATA = sa.MetaData()  # not Rasa's: its create_all must not learn about these
SNAPSHOTS = sa.Table(
    "rasa_tracker_snapshots",
    _METADATA,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("events", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
# Reads "this conversation's events after id N" from an index instead of every row of the sender.
_EVENT_KEYS = sa.Table(
    "events", _METADATA, sa.Column("id", sa.Integer), sa.Column("sender_id", sa.String(255))
)
EVENTS_BY_SENDER_AND_ID = sa.Index("ix_events_sender_id_id", _EVENT_KEYS.c.sender_id, _EVENT_KEYS.c.id)


class TrackerStoreConfigError(RasaException):
    """The tracker store URL is missing, malformed or unusable."""


class TrackerStoreUnavailable(RasaException):
    """A conversation could not be read or saved (the database failed). Never a silent reset:
    the channels answer with the crisis lines (503 on the web chat and REST), and nothing is
    written in the conversation's place (:mod:`bot.store_guard` keeps Rasa from swapping in
    an empty in-memory conversation)."""


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
        engine = sa.create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    # Rasa's own options (POSTGRESQL_SCHEMA, pool sizes) keyed on the dialect name only
    options: Dict[str, Any] = dict(create_engine_kwargs(f"{url.get_backend_name()}://"))
    options["pool_pre_ping"] = True
    options["hide_parameters"] = True  # no message text in an error or a log line
    return sa.create_engine(url, **options)


class _DamagedSnapshot(Exception):
    pass


def _readable_events(value: Any) -> bool:
    """Whether ``value`` is a non-empty list of events of types Rasa knows (Rasa would skip
    an unknown one silently, losing the state it carried)."""
    if not isinstance(value, list) or not value:
        return False
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("event"), str):
            return False
        try:
            Event.resolve_by_type(item["event"])
        except ValueError:  # unknown (Rasa's from_dict would even exit the process on it)
            return False
    return True


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
            self._create_own_schema()
        except (ImportError, AttributeError, sqlite3.Error) as exc:
            # Rasa would silently switch to an in-memory store on ImportError/AttributeError.
            raise TrackerStoreConfigError(f"The SQL tracker store could not be set up: {exc}") from exc

    def _create_own_schema(self) -> None:
        try:
            SNAPSHOTS.create(self.engine, checkfirst=True)
        except sa.exc.DBAPIError as exc:
            raise TrackerStoreConfigError(
                f"The tracker store could not create its snapshot table in {_safe(self.url)}: {exc.orig}"
            ) from exc
        try:
            EVENTS_BY_SENDER_AND_ID.create(self.engine, checkfirst=True)
        except sa.exc.DBAPIError as exc:  # only speed depends on it
            logger.warning("tracker store: index %s not created: %s", EVENTS_BY_SENDER_AND_ID.name, exc.orig)

    def __repr__(self) -> str:
        return f"UrlSQLTrackerStore({_safe(self.url)})"

    # --- bounded history -------------------------------------------------
    def _compaction(self) -> tuple[int, int]:
        after = int(os.environ.get("TRACKER_COMPACT_AFTER_EVENTS", tracker_compaction.DEFAULT_COMPACT_AFTER))
        keep = int(os.environ.get("TRACKER_KEEP_EVENTS", tracker_compaction.DEFAULT_KEEP))
        return after, max(keep, 20)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        after, keep = self._compaction()
        try:
            # In a worker thread: a locked or slow database must not stop the event loop (the
            # channels answer a crisis within seconds whatever the database is doing).
            if self.domain is None or after <= 0:
                tracker = await asyncio.to_thread(asyncio.run, super().retrieve(sender_id))
            else:
                tracker = await asyncio.to_thread(self._retrieve_bounded, sender_id, after, keep)
        except (sa.exc.SQLAlchemyError, sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            logger.error(
                "tracker store: conversation %s could not be read (%s); the person is told, nothing "
                "is written in its place", sender_id, type(exc).__name__,
            )
            raise TrackerStoreUnavailable(f"conversation {sender_id} could not be read") from exc
        if tracker is not None:
            setattr(tracker, _PERSISTED, len(tracker.events))
        return tracker

    def _retrieve_bounded(self, sender_id: str, after: int, keep: int) -> Optional[DialogueStateTracker]:
        """The current session: the stored snapshot and the events after it, cut again when long.

        The snapshot is a cache: one that cannot be read, or whose events do not make a
        tracker, is a miss (the conversation's stored events are read instead)."""
        with self.session_scope() as session:
            try:
                return self._bounded(session, sender_id, after, keep, use_snapshot=True)
            except _DamagedSnapshot as exc:
                logger.warning(
                    "tracker store: a damaged snapshot of a conversation (%s); loading its events",
                    type(exc.__cause__).__name__,
                )
                return self._bounded(session, sender_id, after, keep, use_snapshot=False)

    def _bounded(
        self, session: Session, sender_id: str, after: int, keep: int, use_snapshot: bool
    ) -> Optional[DialogueStateTracker]:
        assert self.domain is not None
        snapshot, rows = self._load_rows(session, sender_id, use_snapshot=use_snapshot)
        if not snapshot and not rows:
            return None
        events = snapshot + [json.loads(data) for _, data in rows]
        if snapshot:
            try:
                tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            except Exception as exc:  # noqa: BLE001 - any damage to the cached events
                raise _DamagedSnapshot() from exc
        if len(rows) > after:
            found = tracker_compaction.compact_serialised(
                sender_id, events, self.domain.slots, keep, floor=len(snapshot) + 1
            )
            if found is not None:
                cut, new_snapshot = found
                # events[:cut] ends with the stored row at index cut - len(snapshot) - 1
                self._store_snapshot(session, sender_id, rows[cut - len(snapshot) - 1][0], new_snapshot)
                events = new_snapshot + events[cut:]
            elif snapshot:
                return tracker
        elif snapshot:
            return tracker
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    def _load_rows(
        self, session: Session, sender_id: str, use_snapshot: bool = True
    ) -> Tuple[List[Dict[str, Any]], Sequence[Tuple[int, str]]]:
        """(snapshot events, stored (id, data) rows after it), or ([], the whole current session)."""
        ev = self.SQLEvent
        found = None
        if use_snapshot:
            found = session.execute(
                sa.select(SNAPSHOTS.c.last_event_id, SNAPSHOTS.c.events).where(
                    SNAPSHOTS.c.sender_id == sender_id
                )
            ).first()
        if found is not None:
            rows = (
                session.query(ev.id, ev.type_name, ev.data)
                .filter(ev.sender_id == sender_id, ev.id > found.last_event_id)
                .order_by(ev.id)
                .all()
            )
            # A new session (after expiry) started since the snapshot: load it as Rasa does.
            if not any(row.type_name == SessionStarted.type_name for row in rows):
                try:
                    snapshot = json.loads(found.events)
                except ValueError:
                    snapshot = None
                if _readable_events(snapshot):
                    return snapshot, [(row.id, row.data) for row in rows]
                logger.warning("tracker store: unreadable snapshot for a conversation; loading it whole")
        rows = (
            self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            .with_entities(ev.id, ev.data)
            .all()
        )
        return [], [(row.id, row.data) for row in rows]

    def _store_snapshot(
        self, session: Session, sender_id: str, last_event_id: int, events: List[Dict[str, Any]]
    ) -> None:
        """Replace the conversation's snapshot; a cache, so a failed write only costs speed."""
        try:
            session.execute(SNAPSHOTS.delete().where(SNAPSHOTS.c.sender_id == sender_id))
            session.execute(
                SNAPSHOTS.insert().values(
                    sender_id=sender_id,
                    last_event_id=last_event_id,
                    events=json.dumps(events),
                    updated_at=time.time(),
                )
            )
            session.commit()
        except sa.exc.DBAPIError as exc:  # e.g. two loads of one conversation writing at once
            session.rollback()
            logger.info(
                "tracker store: snapshot not stored (%s); the events are unaffected", type(exc).__name__
            )

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

    def _write_events(self, tracker: DialogueStateTracker) -> None:
        """SQLTrackerStore.save's writing, run in a worker thread by :meth:`save`."""
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await self.stream_events(tracker)
            # a worker thread: a write-locked database must not stop the event loop
            await asyncio.to_thread(self._write_events, tracker)
        except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
            logger.error(
                "tracker store: a turn of conversation %s could not be saved (%s); the person is told",
                tracker.sender_id, type(exc).__name__,
            )
            raise TrackerStoreUnavailable(f"conversation {tracker.sender_id} could not be saved") from exc
        setattr(tracker, _PERSISTED, len(tracker.events))
